//! Class grading end to end: a folder of submissions (solved, untouched, broken, cheating,
//! hanging) graded two at a time, with every export checked against its platform's published
//! schema or documented shape, and the class page read with an HTML parser.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;

mod support;
use support::{copy, root};

fn schema(name: &str) -> jsonschema::Validator {
    let text = fs::read_to_string(root().join("checker/tests/schemas").join(name)).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}",
        errors.join("\n")
    );
}

/// The class: one solved, one untouched, one that does not compile, one that exits early,
/// one that hangs.
fn class() -> PathBuf {
    let dir = root().join("target/checker-tests/class");
    let _ = fs::remove_dir_all(&dir);
    copy(&root().join("solutions"), &dir.join("alice"));
    support::pristine_exercises(&dir.join("bob"));
    support::pristine_exercises(&dir.join("carol"));
    let lib = dir.join("carol/01-basic/src/lib.rs");
    let broken = fs::read_to_string(&lib).unwrap().replace(
        "pub fn workers(&self) -> usize {",
        "pub fn workers(&self) -> usize { let x: u8 = \"no\";",
    );
    fs::write(&lib, broken).unwrap();
    // A whole-repository submission, whose basic pool exits instead of working.
    support::pristine_exercises(&dir.join("dave/exercises"));
    let lib = dir.join("dave/exercises/01-basic/src/lib.rs");
    let exits = fs::read_to_string(&lib).unwrap().replace(
        "todo!(\"put the job on the shared queue\")",
        "std::process::exit(0)",
    );
    fs::write(&lib, exits).unwrap();
    support::pristine_exercises(&dir.join("erin"));
    let lib = dir.join("erin/01-basic/src/lib.rs");
    let hangs = fs::read_to_string(&lib).unwrap().replace(
        "todo!(\"how many workers does this pool have?\")",
        "loop {}",
    );
    fs::write(&lib, hangs).unwrap();
    dir
}

#[test]
fn a_class_is_graded_into_every_format() {
    let dir = class();
    let out = root().join("target/checker-tests/class-out");
    let _ = fs::remove_dir_all(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_checker"))
        // One exercise is enough to prove every format, and keeps `cargo test` short: the
        // solutions themselves are graded in full by `verify`.
        .args([
            "grade",
            "--json",
            "-j",
            "2",
            "--only",
            "basic",
            "--submissions",
        ])
        .arg(&dir)
        .arg("--csv")
        .arg(out.join("class.csv"))
        .arg("--junit")
        .arg(out.join("class.xml"))
        .arg("--gradescope")
        .arg(out.join("gradescope"))
        .arg("--exercism")
        .arg(out.join("exercism"))
        .arg("--html")
        .arg(out.join("class.html"))
        .arg("--json-dir")
        .arg(out.join("json"))
        .output()
        .expect("the checker runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    if String::from_utf8_lossy(&output.stderr).contains("sandbox layers") {
        return; // No sandbox here: grading refused, as it must (see tests/hostile.rs).
    }
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let class: Value = serde_json::from_str(&stdout).expect("one JSON object");
    let students = class["students"].as_array().unwrap();
    let names: Vec<&str> = students
        .iter()
        .map(|s| s["student"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob", "carol", "dave", "erin"]);
    let score = |name: &str| {
        students.iter().find(|s| s["student"] == name).unwrap()["score"]
            .as_u64()
            .unwrap()
    };
    assert!(score("alice") > 0);
    let alice = &students[0];
    let lost: Vec<String> = alice["report"]["exercises"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|ex| ex["tests"].as_array().into_iter().flatten())
        .filter(|t| t["status"] != "passed")
        .map(|t| format!("{} [{}]: {}", t["name"], t["status"], t["message"]))
        .collect();
    assert_eq!(
        score("alice"),
        alice["max_score"].as_u64().unwrap(),
        "the reference solutions lost points:\n{}",
        lost.join("\n")
    );
    for cheat in ["bob", "carol", "dave", "erin"] {
        assert_eq!(score(cheat), 0, "{cheat}");
    }
    assert!(
        class["run"]["sandbox_layers"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
    );

    // CSV: a row per student, a column per exercise.
    let mut csv = csv::Reader::from_path(out.join("class.csv")).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[0], "student");
    assert!(header.contains(&"basic".to_string()) && header.contains(&"total".to_string()));
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(
        rows[0][header.iter().position(|h| h == "total").unwrap()],
        score("alice").to_string()
    );

    // JUnit: the counts in the attributes are the elements that are there.
    junit_shape(&fs::read_to_string(out.join("class.xml")).unwrap());

    // Gradescope and exercism, per student, against their schemas.
    let gradescope = schema("gradescope-results.json");
    let exercism = schema("exercism-results-v3.json");
    for name in names {
        let gs: Value = serde_json::from_str(
            &fs::read_to_string(out.join("gradescope").join(name).join("results.json")).unwrap(),
        )
        .unwrap();
        assert_valid(&gradescope, &gs, &format!("{name}'s Gradescope results"));
        let sum: f64 = gs["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["score"].as_f64().unwrap())
            .sum();
        assert_eq!(
            sum as u64,
            score(name),
            "{name}: Gradescope's test scores add up to the score"
        );
        let ex: Value = serde_json::from_str(
            &fs::read_to_string(out.join("exercism").join(name).join("results.json")).unwrap(),
        )
        .unwrap();
        assert_valid(&exercism, &ex, &format!("{name}'s exercism results"));
        assert!(out.join("json").join(format!("{name}.json")).is_file());
    }

    // The class page, read with an HTML parser.
    let page = scraper::Html::parse_document(&fs::read_to_string(out.join("class.html")).unwrap());
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    assert_eq!(
        page.select(&select("h1"))
            .next()
            .unwrap()
            .text()
            .collect::<String>(),
        "Class report"
    );
    assert!(
        page.select(&select("script")).next().is_none(),
        "no JavaScript"
    );
    let figures: Vec<_> = page.select(&select("div.charts figure")).collect();
    assert_eq!(figures.len(), header.len() - 4, "a chart per exercise");
    for f in &figures {
        assert!(
            f.select(&select("svg")).next().is_some(),
            "each chart is an inline SVG"
        );
    }
    assert_eq!(page.select(&select("table.students tbody tr")).count(), 5);
    assert!(
        page.select(&select("table.failure-classes tbody tr"))
            .count()
            > 0
    );

    // GitHub Classroom, one submission: the base64 result the reporter reads.
    let result = out.join("classroom.b64");
    let output = Command::new(env!("CARGO_BIN_EXE_checker"))
        .args(["grade", "--exercises"])
        .arg(dir.join("alice"))
        .arg("--github-classroom")
        .arg(&result)
        .output()
        .unwrap();
    assert!(output.status.success());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(fs::read_to_string(&result).unwrap().trim())
        .expect("base64");
    let classroom: Value = serde_json::from_slice(&decoded).unwrap();
    assert_valid(
        &schema("github-classroom-result.json"),
        &classroom,
        "the GitHub Classroom result",
    );
    assert_eq!(classroom["status"], "pass");
}

/// `<testsuites tests failures>` ⊃ `<testsuite tests failures>` ⊃ `<testcase>` (⊃ `<failure>`),
/// with every count attribute equal to what is inside.
fn junit_shape(xml: &str) {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let mut reader = Reader::from_str(xml);
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> Option<usize> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name.as_bytes())
            .and_then(|a| String::from_utf8_lossy(&a.value).parse().ok())
    };
    let (mut total, mut total_failures) = (None, None);
    let (mut cases, mut failures) = (0, 0);
    let (mut suite_expect, mut suite_cases, mut suite_failures) = (None, 0, 0);
    let mut depth = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testsuites" => {
                total = attr(&e, "tests");
                total_failures = attr(&e, "failures");
                depth.push("testsuites");
            }
            Event::Start(e) if e.name().as_ref() == b"testsuite" => {
                assert_eq!(depth.last(), Some(&"testsuites"));
                suite_expect = Some((attr(&e, "tests").unwrap(), attr(&e, "failures").unwrap()));
                suite_cases = 0;
                suite_failures = 0;
            }
            Event::End(e) if e.name().as_ref() == b"testsuite" => {
                let (t, f) = suite_expect.take().unwrap();
                assert_eq!(
                    (suite_cases, suite_failures),
                    (t, f),
                    "a testsuite's counts"
                );
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                assert!(attr(&e, "time").is_some() || e.attributes().any(|a| a.is_ok()));
                cases += 1;
                suite_cases += 1;
            }
            Event::Start(e) if e.name().as_ref() == b"failure" => {
                failures += 1;
                suite_failures += 1;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(total, Some(cases - error_cases(xml)));
    assert_eq!(total_failures, Some(failures));
}

/// Cases standing for a submission that could not be graded (counted as errors, not tests).
fn error_cases(xml: &str) -> usize {
    xml.matches("<error ").count()
}
