//! Staff actions on a case, as `cases advance`, `assign`, `close` and
//! `extend` take them: each one changes the case and records who did it in
//! the audit trail, in one transaction.

use chrono::Utc;
use sqlx::SqliteConnection;

use super::{Store, insert_event};
use crate::domain::{CaseStatus, DeadlineKind, EventKind, Stage};
use crate::util::timestamp;

/// The open examination deadline of a case, as `cases extend` finds it.
#[derive(sqlx::FromRow)]
struct OpenExamination {
    due: chrono::NaiveDate,
    extended: i64,
}

impl Store {
    /// A staff action on a case, in one transaction with its event.
    async fn staff_action(
        &self,
        number: &str,
        by: &str,
        kind: EventKind,
        detail: serde_json::Value,
        apply: impl for<'t> FnOnce(
            i64,
            &'t mut SqliteConnection,
        ) -> futures::future::BoxFuture<'t, anyhow::Result<()>>,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM \"case\" WHERE number = ?")
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
        else {
            anyhow::bail!("no case {number}");
        };
        apply(id, &mut tx).await?;
        sqlx::query("UPDATE \"case\" SET updated_at = ? WHERE id = ?")
            .bind(timestamp(Utc::now()))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_event(
            &mut tx,
            Some(id),
            None,
            Utc::now(),
            &format!("staff:{by}"),
            kind,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `cases advance`: the case moves to `stage`; what AGE owed at the old
    /// stage is met, and it is the beneficiary's turn.
    pub async fn advance(
        &self,
        number: &str,
        stage: Stage,
        note: &str,
        by: &str,
    ) -> anyhow::Result<()> {
        let detail = serde_json::json!({"to": stage, "note": note});
        self.staff_action(number, by, EventKind::StageChanged, detail, move |id, tx| {
            Box::pin(async move {
                let now = timestamp(Utc::now());
                sqlx::query("UPDATE deadline SET met_at = ? WHERE case_id = ? AND met_at IS NULL AND kind IN (?, ?)")
                    .bind(&now)
                    .bind(id)
                    .bind(DeadlineKind::Answer)
                    .bind(DeadlineKind::Examination)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE \"case\" SET stage = ?, status = ? WHERE id = ?")
                    .bind(stage)
                    .bind(CaseStatus::WaitingForBeneficiary)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn assign(&self, number: &str, who: &str, by: &str) -> anyhow::Result<()> {
        let who = who.to_string();
        let detail = serde_json::json!({"to": who});
        self.staff_action(number, by, EventKind::Assigned, detail, move |id, tx| {
            Box::pin(async move {
                sqlx::query("UPDATE \"case\" SET assigned_to = ? WHERE id = ?")
                    .bind(&who)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// `cases close`: the case ends (closed, or rejected); nothing is due any more.
    pub async fn close(
        &self,
        number: &str,
        reason: &str,
        rejected: bool,
        by: &str,
    ) -> anyhow::Result<()> {
        let status = if rejected {
            CaseStatus::Rejected
        } else {
            CaseStatus::Closed
        };
        let detail = serde_json::json!({"status": status, "reason": reason});
        self.staff_action(number, by, EventKind::Closed, detail, move |id, tx| {
            Box::pin(async move {
                let now = timestamp(Utc::now());
                sqlx::query("UPDATE deadline SET cancelled_at = ? WHERE case_id = ? AND met_at IS NULL AND cancelled_at IS NULL")
                    .bind(&now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE \"case\" SET status = ? WHERE id = ?")
                    .bind(status)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// `cases extend`: the examination deadline moves by `days`, once.
    pub async fn extend(
        &self,
        number: &str,
        days: u32,
        reason: &str,
        by: &str,
        calendar: &crate::calendar::Calendar,
    ) -> anyhow::Result<String> {
        let row: Option<OpenExamination> = sqlx::query_as(
            "SELECT d.due, d.extended FROM deadline d JOIN \"case\" c ON c.id = d.case_id
             WHERE c.number = ? AND d.kind = ? AND d.met_at IS NULL AND d.cancelled_at IS NULL",
        )
        .bind(number)
        .bind(DeadlineKind::Examination)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            anyhow::bail!("case {number} has no open examination deadline to extend");
        };
        anyhow::ensure!(
            row.extended == 0,
            "the examination of {number} was extended already (once is the law's limit)"
        );
        let due = row.due;
        let new_due = calendar.add_days(due, days).to_string();
        let detail = serde_json::json!({"kind": DeadlineKind::Examination, "from": due.to_string(), "to": new_due, "days": days, "reason": reason});
        let value = new_due.clone();
        self.staff_action(
            number,
            by,
            EventKind::DeadlineExtended,
            detail,
            move |id, tx| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE deadline SET due = ?, extended = 1, checked_at = NULL WHERE case_id = ? AND kind = ?",
                    )
                    .bind(&value)
                    .bind(id)
                    .bind(DeadlineKind::Examination)
                    .execute(&mut *tx)
                    .await?;
                    Ok(())
                })
            },
        )
        .await?;
        Ok(new_due)
    }
}
