//! The normal build is plain std and crossbeam-channel: same types, same behaviour.
#![cfg(not(all(feature = "loom", workbook_loom)))]

use workbook_sync::channel;

#[test]
fn normal_build_reexports_std_and_crossbeam() {
    let (tx, rx) = channel::bounded::<u8>(1);
    let _: &crossbeam_channel::Sender<u8> = &tx;
    let _: &std::sync::Mutex<u8> = &workbook_sync::Mutex::new(0);
    const { assert!(!workbook_sync::MODEL_CHECKED) };
    tx.send(1).unwrap();
    assert_eq!(tx.try_send(2), Err(channel::TrySendError::Full(2)));
    drop(tx);
    assert_eq!(rx.iter().collect::<Vec<_>>(), vec![1]);
}
