//! Tests of the scheduler: the reminder points and follow-ups [`plan`](super::plan)
//! chooses, and the ticking loop.

use super::*;

fn open(kind: DeadlineKind, due: &str, status: CaseStatus, reminders: u32) -> OpenDeadline {
    OpenDeadline {
        id: 1,
        case_id: 1,
        number: "AGE-2026-00001".into(),
        service: Service::Mpass,
        stage: crate::domain::Stage::Request,
        status,
        subject: "Solicitare".into(),
        opened_by: Some("ana@primaria.md".into()),
        language: Some(Language::Ro),
        missing: vec![crate::domain::Field::Idno],
        kind,
        due: due.parse().unwrap(),
        reminders,
    }
}

#[tokio::test(start_paused = true)]
async fn the_scheduler_ticks_at_once_then_every_minute_until_cancelled() {
    let ticks = std::sync::atomic::AtomicU32::new(0);
    let cancel = CancellationToken::new();
    let wake = tokio::sync::Notify::new();
    let run = every(TICK, &cancel, &wake, || async {
        ticks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let stop = async {
        tokio::time::sleep(Duration::from_secs(150)).await;
        cancel.cancel();
    };
    tokio::join!(run, stop);
    // t = 0, 60 and 120 s.
    assert_eq!(ticks.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn reminder_points() {
    let cal = Calendar::default();
    let lc = Lifecycle::default();
    let today: NaiveDate = "2026-12-03".parse().unwrap(); // Thursday
    let points = |due: &str| -> Vec<String> {
        plan(
            &[open(
                DeadlineKind::Answer,
                due,
                CaseStatus::WaitingForAge,
                0,
            )],
            today,
            &cal,
            &lc,
        )
        .into_iter()
        .map(|a| match a {
            Action::StaffReminder { point, .. } => point,
            other => panic!("{other:?}"),
        })
        .collect()
    };
    assert_eq!(points("2026-12-08"), ["before-3"]); // 3 working days ahead
    assert_eq!(points("2026-12-09"), Vec::<String>::new()); // 4 ahead: not yet
    assert_eq!(points("2026-12-03"), ["due"]);
    assert_eq!(points("2026-12-01"), ["overdue-2026-12-03"]);
}

#[test]
fn followups_stop_at_the_limit_and_wait_their_turn() {
    let cal = Calendar::default();
    let lc = Lifecycle::default();
    let today: NaiveDate = "2026-12-03".parse().unwrap();
    let p = plan(
        &[open(
            DeadlineKind::Followup,
            "2026-12-03",
            CaseStatus::WaitingForBeneficiary,
            0,
        )],
        today,
        &cal,
        &lc,
    );
    assert_eq!(
        p,
        vec![Action::Followup {
            case: 0,
            n: 1,
            next_due: "2026-12-10".parse().unwrap()
        }]
    );
    assert!(
        plan(
            &[open(
                DeadlineKind::Followup,
                "2026-12-03",
                CaseStatus::WaitingForBeneficiary,
                2
            )],
            today,
            &cal,
            &lc
        )
        .is_empty()
    );
    assert!(
        plan(
            &[open(
                DeadlineKind::Followup,
                "2026-12-04",
                CaseStatus::WaitingForBeneficiary,
                0
            )],
            today,
            &cal,
            &lc
        )
        .is_empty()
    );
    assert!(
        plan(
            &[open(
                DeadlineKind::Followup,
                "2026-12-03",
                CaseStatus::WaitingForAge,
                0
            )],
            today,
            &cal,
            &lc
        )
        .is_empty()
    );
}

/// Skipping the days before `next_check` never skips a reminder: on every
/// day in between, `plan` has nothing to send for that deadline; and a
/// deadline looked at is looked at again no later than its next point.
#[test]
fn no_reminder_falls_between_two_checks() {
    let cal = Calendar::default();
    let lc = Lifecycle::default();
    let start: NaiveDate = "2026-12-01".parse().unwrap();
    let cases = [
        (DeadlineKind::Answer, CaseStatus::WaitingForAge, 0),
        (DeadlineKind::Examination, CaseStatus::WaitingForAge, 0),
        (DeadlineKind::Followup, CaseStatus::WaitingForBeneficiary, 0),
        (DeadlineKind::Followup, CaseStatus::WaitingForBeneficiary, 2),
        (DeadlineKind::Followup, CaseStatus::WaitingForAge, 0),
    ];
    for (kind, status, reminders) in cases {
        for due_offset in 0..60 {
            let due = start + chrono::Duration::days(due_offset);
            let d = open(kind, &due.to_string(), status, reminders);
            for today_offset in 0..70 {
                let today = start + chrono::Duration::days(today_offset);
                let next = next_check(&d, today, &cal, &lc);
                assert!(
                    next > today,
                    "{kind:?} due {due}: next check {next} not after {today}"
                );
                let mut day = today.succ_opt().unwrap();
                while day < next && day < start + chrono::Duration::days(200) {
                    assert!(
                        plan(std::slice::from_ref(&d), day, &cal, &lc).is_empty(),
                        "{kind:?} {status:?} due {due}, checked {today}: {day} skipped a reminder (next {next})"
                    );
                    day = day.succ_opt().unwrap();
                }
            }
        }
    }
}
