//! The starter tests a student sees are ordinary `#[test]` functions. The checker also runs
//! them inside its own harness (not libtest), where `#[test]` would compile them away. The
//! harness brings this attribute into scope with `use testkit::test;`, which shadows the
//! built-in one and leaves the function in place for the harness to call by name.

use proc_macro::TokenStream;

/// Keeps the function as it is (allowing it to look unused); the harness calls it by name.
#[proc_macro_attribute]
pub fn test(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut out: TokenStream = "#[allow(dead_code)]".parse().expect("valid attribute");
    out.extend(item);
    out
}
