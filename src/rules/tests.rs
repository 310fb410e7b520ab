//! Loading the shipped rules, and every kind of mistake in them reported
//! with its file and line.

use super::*;
use crate::config::ConfigErrors;

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules")
}

#[test]
fn shipped_rules_load() {
    let rules = Rules::load(&shipped()).unwrap();
    assert!(
        rules
            .never_reply_to()
            .iter()
            .any(|p| p == "mailer-daemon@*")
    );
}

#[test]
fn explanations_are_filled() {
    let rules = Rules::load(&shipped()).unwrap();
    let t = rules.explain(
        ProblemCode::AttributeUnknown,
        Some("Email"),
        Some("EmailAddress"),
        Language::En,
    );
    assert_eq!(
        t,
        "There is no MPass attribute \"Email\". Did you mean \"EmailAddress\"?"
    );
    let t = rules.explain(
        ProblemCode::AttributeUnknown,
        Some("Foo"),
        None,
        Language::En,
    );
    assert_eq!(t, "There is no MPass attribute \"Foo\".");
    let t = rules.explain(
        ProblemCode::IpNotPublic,
        Some("10.0.0.1"),
        None,
        Language::Ro,
    );
    assert!(t.contains("10.0.0.1") && !t.contains('{'), "{t}");
    assert_eq!(
        rules
            .required(Stage::TestRegistration, Service::Msign, false)
            .len(),
        7
    );
    assert!(
        rules
            .ask_for(Field::IpAddresses, Language::Ru)
            .contains("IP")
    );
}

#[test]
fn wildcard() {
    for (p, t, want) in [
        ("mailer-daemon@*", "mailer-daemon@mx.example.com", true),
        ("no*reply@*", "no-reply@gov.md", true),
        ("no*reply@*", "noreply@gov.md", true),
        ("no*reply@*", "ana@gov.md", false),
        ("*", "", true),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
    ] {
        assert_eq!(wildcard_match(p, t), want, "{p} ~ {t}");
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn check_reports_missing_templates_bad_syntax_and_unknown_variables() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&shipped(), dir.path());
    let t = dir.path().join("templates");
    std::fs::remove_file(t.join("ru/followup.txt")).unwrap();
    std::fs::write(t.join("en/received.txt"), "Hello\n{{ case_numbr }}\n").unwrap();
    std::fs::write(t.join("ro/received.txt"), "Salut {% if %}\n").unwrap();
    std::fs::write(dir.path().join("rules.toml"), "[loop_guard]\nnever = 1\n").unwrap();

    let errors = Rules::load(dir.path()).unwrap_err().0;
    let text = ConfigErrors(errors.clone()).to_string();
    assert_eq!(errors.len(), 4, "{text}");
    assert!(
        errors
            .iter()
            .any(|e| e.file.ends_with("rules.toml") && e.line == Some(2)),
        "{text}"
    );
    assert!(
        errors.iter().any(|e| e.file.ends_with("ru/followup.txt")),
        "{text}"
    );
    assert!(
        errors.iter().any(|e| e.file.ends_with("en/received.txt")
            && e.line == Some(2)
            && e.message.contains("case_numbr")),
        "{text}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.file.ends_with("ro/received.txt") && e.line == Some(1)),
        "{text}"
    );
}

#[test]
fn load_with_reads_through_the_given_reader() {
    let dir = shipped();
    let edited = dir.join("lifecycle.toml");
    let read = |path: &Path| {
        if path == edited {
            Ok(b"[digest]\ntime = \"25:99\"\n".to_vec())
        } else if path.ends_with("templates/en/received.txt") {
            Ok(vec![0xff, 0xfe])
        } else {
            std::fs::read(path)
        }
    };
    let errors = Rules::load_with(&dir, &read).unwrap_err().0;
    let text = ConfigErrors(errors.clone()).to_string();
    assert_eq!(errors.len(), 2, "{text}");
    assert!(
        errors
            .iter()
            .any(|e| e.file == edited && e.line == Some(2) && e.message.contains("25:99")),
        "{text}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.file.ends_with("en/received.txt") && e.message.contains("valid UTF-8")),
        "{text}"
    );
    // Nothing on disk was touched: the folder still loads.
    assert!(Rules::load(&dir).is_ok());
}

/// The shipped rules with `fields.toml` edited by `edit`: the errors.
fn errors_with_fields(edit: impl Fn(String) -> String) -> Vec<crate::config::ConfigError> {
    let dir = shipped();
    let fields = dir.join("fields.toml");
    let read = |path: &Path| {
        let bytes = std::fs::read(path)?;
        if path != fields {
            return Ok(bytes);
        }
        Ok(edit(String::from_utf8(bytes).unwrap()).into_bytes())
    };
    match Rules::load_with(&dir, &read) {
        Ok(_) => Vec::new(),
        Err(e) => e.0,
    }
}

#[test]
fn asking_public_institutions_is_checked() {
    let list =
        |fields: &'static str| move |t: String| t.replacen("public_institution = []", fields, 1);
    assert!(errors_with_fields(list("public_institution = [\"registry_entry\"]")).is_empty());
    let errors = errors_with_fields(list("public_institution = [\"registry\"]"));
    assert_eq!(errors.len(), 1, "{}", ConfigErrors(errors.clone()));
    assert!(errors[0].message.contains("unknown field \"registry\""));
    assert!(errors[0].line.is_some_and(|l| l > 1));
    // Asking public institutions needs the words that tell them apart.
    let errors = errors_with_fields(|t| {
        let t = list("public_institution = [\"registry_entry\"]")(t);
        let start = t.find("name_words = [").unwrap();
        let end = start + t[start..].find(']').unwrap() + 1;
        format!("{}name_words = []{}", &t[..start], &t[end..])
    });
    assert_eq!(errors.len(), 1, "{}", ConfigErrors(errors.clone()));
    assert!(
        errors[0].message.contains("name_words"),
        "{}",
        errors[0].message
    );
    // It points at the key, not at a comment naming it.
    let shipped = std::fs::read_to_string(shipped().join("fields.toml")).unwrap();
    let key_line = shipped
        .lines()
        .position(|l| l.starts_with("public_institution"))
        .unwrap()
        + 1;
    assert_eq!(errors[0].line, Some(key_line));
}
