//! What the database already knows that bears on an incoming mail: the
//! same mail seen before, the case it answers or names in its subject, its
//! certificates registered on earlier cases, and how many automatic replies
//! its sender got lately. Read inside the mail's write transaction, so the
//! decision made from it cannot go stale before it is recorded.

use chrono::{DateTime, Utc};

use super::{Tx, language_from};
use crate::decide::{CaseRef, History, RegisteredCertificate};
use crate::domain::{CaseFacts, Environment, OutgoingKind, Service, Stage, subject_tag};
use crate::parse::Mail;
use crate::util::timestamp;

/// The columns of a case that a decision reads.
#[derive(sqlx::FromRow)]
struct CaseRefColumns {
    number: String,
    language: Option<String>,
    stage: Stage,
    // Read as text and parsed leniently: a service outside the vocabulary
    // reads as `unknown`, as it always has here.
    service: String,
    facts: String,
    created_at: DateTime<Utc>,
}

/// A case holding a certificate, with the environment its mail named and
/// its participants' addresses (joined by U+001F, which no address holds).
#[derive(sqlx::FromRow)]
struct CertificateCase {
    id: i64,
    number: String,
    environment: Option<String>,
    facts: String,
    participants: Option<String>,
}

/// Most cases a certificate is looked up in, newest first (among its four
/// times as many newest attachments). A certificate sent to more cases than
/// this has been said to be registered already many times over; without
/// the bound, every mail bringing it again would read every case before it.
const CERTIFICATE_CASES: i64 = 32;

/// How a certificate is looked for among the attachments recorded.
#[derive(Clone, Copy)]
enum CertificateKey {
    Sha256,
    Serial,
}

/// The cases holding a certificate, found by one column of `attachment`:
/// the newest attachments first, through the column's index, so a
/// certificate sent a thousand times costs no more than one sent once.
macro_rules! certificate_cases {
    ($column:literal) => {
        concat!(
            "SELECT DISTINCT c.id, c.number, m.environment, c.facts,
               (SELECT group_concat(p.address, char(31)) FROM case_participant p
                WHERE p.case_id = c.id) AS participants
             FROM (SELECT message_id FROM attachment WHERE ",
            $column,
            " = ?1 ORDER BY id DESC LIMIT ?2 * 4) a
             JOIN message m ON m.id = a.message_id
             JOIN \"case\" c ON c.id = m.case_id
             ORDER BY c.id DESC LIMIT ?2"
        )
    };
}

impl CertificateKey {
    fn query(self) -> &'static str {
        match self {
            CertificateKey::Sha256 => certificate_cases!("cert_sha256"),
            CertificateKey::Serial => certificate_cases!("cert_serial"),
        }
    }
}

/// A message row already recorded for the same mail.
#[derive(sqlx::FromRow)]
struct SameMail {
    id: i64,
    case_id: Option<i64>,
}

impl Tx {
    async fn case_ref(&mut self, id: i64) -> anyhow::Result<Option<CaseRef>> {
        let Some(case): Option<CaseRefColumns> = sqlx::query_as(
            "SELECT number, language, stage, service, facts, created_at FROM \"case\" WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.conn())
        .await?
        else {
            return Ok(None);
        };
        let participants = sqlx::query_scalar(
            "SELECT address FROM case_participant WHERE case_id = ? ORDER BY address",
        )
        .bind(id)
        .fetch_all(self.conn())
        .await?;
        Ok(Some(CaseRef {
            id,
            number: case.number,
            language: language_from(case.language),
            participants,
            stage: case.stage,
            service: Service::parse(&case.service),
            facts: CaseFacts::from_column(&case.facts),
            opened: crate::calendar::today(case.created_at),
        }))
    }

    /// What the database knows that bears on `mail`, its certificates
    /// (SHA-256) and the certificate `serial` it sent instead of one.
    pub async fn history(
        &mut self,
        mail: &Mail,
        certificates: &[String],
        serial: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<History> {
        let mut h = History::default();
        for sha in certificates {
            self.registered_certificates(CertificateKey::Sha256, sha, &mut h)
                .await?;
        }
        if let Some(serial) = serial.map(crate::domain::normal_serial)
            && !serial.is_empty()
        {
            self.registered_certificates(CertificateKey::Serial, &serial, &mut h)
                .await?;
        }
        self.same_mail(mail, &mut h).await?;
        self.replied_case(mail, &mut h).await?;
        self.tagged_case(mail, &mut h).await?;
        self.recent_replies(mail, now, &mut h).await?;
        Ok(h)
    }

    /// Cases that already hold the certificate found by `by` = `key`.
    async fn registered_certificates(
        &mut self,
        by: CertificateKey,
        key: &str,
        h: &mut History,
    ) -> anyhow::Result<()> {
        let rows: Vec<CertificateCase> = sqlx::query_as(by.query())
            .bind(key)
            .bind(CERTIFICATE_CASES)
            .fetch_all(self.conn())
            .await?;
        for r in rows {
            let facts = CaseFacts::from_column(&r.facts);
            let mut domains: Vec<String> = r
                .participants
                .as_deref()
                .unwrap_or_default()
                .split('\u{1f}')
                .filter_map(|a| a.rsplit_once('@').map(|(_, d)| d.to_lowercase()))
                .collect();
            domains.sort();
            domains.dedup();
            h.registered_certificates.push(RegisteredCertificate {
                key: key.to_owned(),
                case_id: r.id,
                case_number: r.number,
                environment: r
                    .environment
                    .as_deref()
                    .and_then(|e| e.parse::<Environment>().ok()),
                idno: facts.request.idno,
                system_name: facts.request.system_name,
                domains,
            });
        }
        Ok(())
    }

    /// The same mail: the same content, or — when a server added headers
    /// we do not know to leave out — the same Message-ID, sender and date.
    async fn same_mail(&mut self, mail: &Mail, h: &mut History) -> anyhow::Result<()> {
        // One lookup, both indexed; the same content wins over the same header.
        let same: Option<SameMail> = sqlx::query_as(
            "SELECT id, case_id FROM message
             WHERE content_hash = ?1 OR (message_id = ?2 AND from_addr = ?3 AND sent_date = ?4)
             ORDER BY content_hash = ?1 DESC LIMIT 1",
        )
        .bind(&mail.content_hash)
        .bind(&mail.message_id)
        .bind(mail.from.as_ref().map(|f| f.address.to_lowercase()))
        .bind(&mail.date)
        .fetch_optional(self.conn())
        .await?;
        if let Some(row) = same {
            let case = match row.case_id {
                Some(id) => self.case_ref(id).await?,
                None => None,
            };
            h.duplicate_of = Some((row.id, case));
        }
        Ok(())
    }

    /// Our own Message-IDs first (In-Reply-To, then References from the
    /// newest back), then the beneficiary's earlier mail; long threads
    /// are cut to the last few.
    async fn replied_case(&mut self, mail: &Mail, h: &mut History) -> anyhow::Result<()> {
        let ids: Vec<&String> = mail
            .in_reply_to
            .iter()
            .chain(mail.references.iter().rev())
            .take(20)
            .collect();
        for (sql, ours) in [
            (
                "SELECT case_id FROM outbox WHERE message_id = ? AND case_id IS NOT NULL",
                true,
            ),
            (
                "SELECT case_id FROM message WHERE message_id = ? AND case_id IS NOT NULL",
                false,
            ),
        ] {
            if h.replied_case.is_some() {
                break;
            }
            for id in &ids {
                if let Some(case_id) = sqlx::query_scalar::<_, i64>(sql)
                    .bind(id.as_str())
                    .fetch_optional(self.conn())
                    .await?
                {
                    h.replied_case = self.case_ref(case_id).await?;
                    h.replied_to_ours = ours;
                    break;
                }
            }
        }
        Ok(())
    }

    /// The case named by a `[AGE-…]` tag in the subject.
    async fn tagged_case(&mut self, mail: &Mail, h: &mut History) -> anyhow::Result<()> {
        if let Some(number) = subject_tag(&mail.subject)
            && let Some(case_id) =
                sqlx::query_scalar::<_, i64>("SELECT id FROM \"case\" WHERE number = ?")
                    .bind(&number)
                    .fetch_optional(self.conn())
                    .await?
        {
            h.tagged_case = self.case_ref(case_id).await?;
        }
        Ok(())
    }

    /// Automatic replies queued lately to the address this mail would be
    /// answered at, for the loop guard.
    async fn recent_replies(
        &mut self,
        mail: &Mail,
        now: DateTime<Utc>,
        h: &mut History,
    ) -> anyhow::Result<()> {
        if let Some(to) = mail.reply_address() {
            let (ten_minutes, day): (i64, i64) = sqlx::query_as(
                "SELECT COALESCE(SUM(created_at > ?), 0), COUNT(*) FROM outbox
                 WHERE kind = ? AND to_addr = ? AND created_at > ?",
            )
            .bind(timestamp(now - chrono::Duration::minutes(10)))
            .bind(OutgoingKind::Reply)
            .bind(to.address.to_lowercase())
            .bind(timestamp(now - chrono::Duration::days(1)))
            .fetch_one(self.conn())
            .await?;
            h.replies_last_10min = ten_minutes as u32;
            h.replies_last_day = day as u32;
        }
        Ok(())
    }
}
