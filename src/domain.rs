//! The procedure's vocabulary: one enum for each kind of name a case is
//! described with — stage, status, deadline kind, kind of outgoing mail,
//! service, environment, language, field, problem code — spelt in the
//! database, the JSON output and the rules files exactly as the serde and
//! sqlx names here; what a case knows ([`CaseFacts`]); and the case number with
//! the subject tag that carries it.
//!
//! Nothing else in the crate writes these names as string literals: a
//! typo is a compile error, and adding a stage is one edit.

use serde::{Deserialize, Serialize};

/// Declares an enum of the vocabulary, each variant with its name: serde,
/// sqlx (a TEXT column), `FromStr`, `Display`, a `const` [`as_str`] and
/// every variant in order, all from that one name.
macro_rules! vocabulary {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$m])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            Serialize, Deserialize, sqlx::Type,
        )]
        #[sqlx(type_name = "text")]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] #[sqlx(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// Their names, in the same order.
            pub const NAMES: &[&str] = &[$($text),+];

            /// The name used in the database, JSON and rules files.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<$name, UnknownName> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName {
                        what: stringify!($name),
                        known: $name::NAMES,
                    }),
                }
            }
        }

        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str {
                v.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<$name> for minijinja::Value {
            fn from(v: $name) -> minijinja::Value {
                minijinja::Value::from(v.as_str())
            }
        }
    };
}

/// A name that is none of its vocabulary's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    what: &'static str,
    /// The names there are, in order.
    pub known: &'static [&'static str],
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a {}; one of {}", self.what, self.known.join(", "))
    }
}

impl std::error::Error for UnknownName {}

mod facts;

pub use facts::{CaseFacts, Field, Request, SignerType, normal_serial};

vocabulary! {
    /// Where a case stands in the procedure (DESIGN §1), in procedure order.
    /// The steps a mail can be about are the stages a beneficiary sends
    /// something for ([`Stage::is_step`]).
    pub enum Stage {
        Request = "request",
        Agreement = "agreement",
        Examination = "examination",
        Certificate = "certificate",
        TestRegistration = "test_registration",
        ProductionRegistration = "production_registration",
    }
}

impl Stage {
    /// The stages a beneficiary's mail can be about, with required fields
    /// in the rules (`[steps.*]`).
    pub const STEPS: &[Stage] = &[
        Stage::Request,
        Stage::Agreement,
        Stage::TestRegistration,
        Stage::ProductionRegistration,
    ];

    pub fn is_step(self) -> bool {
        Stage::STEPS.contains(&self)
    }
}

vocabulary! {
    /// Whose turn it is on a case, or how it ended.
    pub enum CaseStatus {
        WaitingForAge = "waiting_for_age",
        WaitingForBeneficiary = "waiting_for_beneficiary",
        Closed = "closed",
        Rejected = "rejected",
    }
}

impl CaseStatus {
    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Closed | CaseStatus::Rejected)
    }
}

vocabulary! {
    /// A deadline on a case.
    pub enum DeadlineKind {
        /// AGE answers a complete request (its own turn).
        Answer = "answer",
        /// AGE examines a request with its signed agreement (its own turn).
        Examination = "examination",
        /// The beneficiary owes missing items; a reminder falls due.
        Followup = "followup",
    }
}

impl DeadlineKind {
    /// Deadlines AGE holds itself to; `followup` is the beneficiary's.
    pub const AGE: &[DeadlineKind] = &[DeadlineKind::Answer, DeadlineKind::Examination];

    pub fn is_age(self) -> bool {
        DeadlineKind::AGE.contains(&self)
    }
}

vocabulary! {
    /// What a queued mail is.
    pub enum OutgoingKind {
        /// The answer to a beneficiary's mail.
        Reply = "reply",
        /// A message to staff.
        Alert = "alert",
        /// A follow-up to a beneficiary about missing items.
        Reminder = "reminder",
    }
}

vocabulary! {
    /// The AGE service a case is about.
    pub enum Service {
        Mpass = "mpass",
        Msign = "msign",
        Unknown = "unknown",
    }
}

impl Service {
    /// The service named by `s`; anything else is [`Service::Unknown`].
    pub fn parse(s: &str) -> Service {
        s.parse().unwrap_or(Service::Unknown)
    }
}

vocabulary! {
    /// Which environment a registration is for (procedure steps 5 and 6).
    pub enum Environment {
        Test = "test",
        Production = "production",
    }
}

vocabulary! {
    /// Languages a beneficiary may be answered in.
    pub enum Language {
        Ro = "ro",
        Ru = "ru",
        En = "en",
    }
}

impl Language {
    /// The ISO 639-1 code.
    pub const fn code(self) -> &'static str {
        self.as_str()
    }
}

vocabulary! {
    /// The templates every rules folder has: replies and reminders to
    /// beneficiaries (one per language), alerts and digests to staff.
    /// Triage rules may name further reply templates of their own.
    pub enum Template {
        /// A new case is opened.
        Received = "received",
        /// A mail on an existing case.
        Followup = "followup",
        /// A mail that could not be processed.
        Rejected = "rejected",
        /// To the beneficiary: items still missing. To staff: a deadline.
        Reminder = "reminder",
        Quarantined = "quarantined",
        PrivateKey = "private_key",
        CaseSummary = "case_summary",
        Digest = "digest",
    }
}

vocabulary! {
    /// Everything that can be wrong with a mail or what it gives, each
    /// explained to the beneficiary in every language under its name in
    /// the rules' `problems.toml`.
    pub enum ProblemCode {
        PrivateKey = "private_key",
        IdnoInvalid = "idno_invalid",
        UnsignedRequest = "unsigned_request",
        UnsignedDocument = "unsigned_document",
        CertUnreadable = "cert_unreadable",
        CertKeyTooSmall = "cert_key_too_small",
        CertWeakSignature = "cert_weak_signature",
        CertIsCa = "cert_is_ca",
        CertNoClientAuth = "cert_no_client_auth",
        CertExpired = "cert_expired",
        CertNotYetValid = "cert_not_yet_valid",
        CertExpiresSoon = "cert_expires_soon",
        CertUntrusted = "cert_untrusted",
        CertAlreadyRegistered = "cert_already_registered",
        ArchiveTooDeep = "archive_too_deep",
        ArchiveTooManyEntries = "archive_too_many_entries",
        ArchiveTooLarge = "archive_too_large",
        ArchiveBomb = "archive_bomb",
        ArchiveEncrypted = "archive_encrypted",
        ArchiveUnreadable = "archive_unreadable",
        /// The parser skipped parts (nested too deep, too many parts):
        /// they were never inspected.
        PartsSkipped = "parts_skipped",
        SignatureInvalid = "signature_invalid",
        SignatureProblem = "signature_problem",
        SignatureMalformed = "signature_malformed",
        SignatureBadSignature = "signature_bad_signature",
        SignatureByteRangeInvalid = "signature_byte_range_invalid",
        SignatureByteRangePartial = "signature_byte_range_partial",
        SignatureContentMissing = "signature_content_missing",
        SignatureContentTypeMismatch = "signature_content_type_mismatch",
        SignatureDigestMismatch = "signature_digest_mismatch",
        SignatureMissingDataObject = "signature_missing_data_object",
        SignatureMultipleSigners = "signature_multiple_signers",
        SignatureNoDataObjects = "signature_no_data_objects",
        SignatureNoManifest = "signature_no_manifest",
        SignatureNoSignerCertificate = "signature_no_signer_certificate",
        SignatureNoSignerInfo = "signature_no_signer_info",
        SignatureTooLarge = "signature_too_large",
        SignatureUnsupportedAlgorithm = "signature_unsupported_algorithm",
        SignatureWeakDigest = "signature_weak_digest",
        SignatureWeakKey = "signature_weak_key",
        IdnpNotIdno = "idnp_not_idno",
        IpNotPublic = "ip_not_public",
        UrlNotHttps = "url_not_https",
        UrlLocalhost = "url_localhost",
        AttributeUnknown = "attribute_unknown",
    }
}

vocabulary! {
    /// What can be wrong with one signature of a signed document; the
    /// mail's problem is `signature_<name>` ([`ProblemCode::from`]).
    pub enum SignatureProblem {
        Malformed = "malformed",
        BadSignature = "bad_signature",
        ByteRangeInvalid = "byte_range_invalid",
        ByteRangePartial = "byte_range_partial",
        ContentMissing = "content_missing",
        ContentTypeMismatch = "content_type_mismatch",
        DigestMismatch = "digest_mismatch",
        MissingDataObject = "missing_data_object",
        MultipleSigners = "multiple_signers",
        NoDataObjects = "no_data_objects",
        NoManifest = "no_manifest",
        NoSignerCertificate = "no_signer_certificate",
        NoSignerInfo = "no_signer_info",
        TooLarge = "too_large",
        UnsupportedAlgorithm = "unsupported_algorithm",
        WeakDigest = "weak_digest",
        WeakKey = "weak_key",
    }
}

impl From<SignatureProblem> for ProblemCode {
    fn from(p: SignatureProblem) -> ProblemCode {
        use SignatureProblem as S;
        match p {
            S::Malformed => ProblemCode::SignatureMalformed,
            S::BadSignature => ProblemCode::SignatureBadSignature,
            S::ByteRangeInvalid => ProblemCode::SignatureByteRangeInvalid,
            S::ByteRangePartial => ProblemCode::SignatureByteRangePartial,
            S::ContentMissing => ProblemCode::SignatureContentMissing,
            S::ContentTypeMismatch => ProblemCode::SignatureContentTypeMismatch,
            S::DigestMismatch => ProblemCode::SignatureDigestMismatch,
            S::MissingDataObject => ProblemCode::SignatureMissingDataObject,
            S::MultipleSigners => ProblemCode::SignatureMultipleSigners,
            S::NoDataObjects => ProblemCode::SignatureNoDataObjects,
            S::NoManifest => ProblemCode::SignatureNoManifest,
            S::NoSignerCertificate => ProblemCode::SignatureNoSignerCertificate,
            S::NoSignerInfo => ProblemCode::SignatureNoSignerInfo,
            S::TooLarge => ProblemCode::SignatureTooLarge,
            S::UnsupportedAlgorithm => ProblemCode::SignatureUnsupportedAlgorithm,
            S::WeakDigest => ProblemCode::SignatureWeakDigest,
            S::WeakKey => ProblemCode::SignatureWeakKey,
        }
    }
}

impl ProblemCode {
    /// The problem whose explanation a sender gets: its own, but one text
    /// (`signature_problem`) covers every detail of a signature.
    pub fn explained_by(self) -> ProblemCode {
        if SignatureProblem::ALL
            .iter()
            .any(|s| ProblemCode::from(*s) == self)
        {
            ProblemCode::SignatureProblem
        } else {
            self
        }
    }

    /// The codes `problems.toml` explains, each in every language (and no
    /// others).
    pub fn needs_explanation(self) -> bool {
        self.explained_by() == self
    }

    /// A problem of a certificate the mail brings.
    pub fn is_certificate(self) -> bool {
        use ProblemCode as P;
        matches!(
            self,
            P::CertUnreadable
                | P::CertKeyTooSmall
                | P::CertWeakSignature
                | P::CertIsCa
                | P::CertNoClientAuth
                | P::CertExpired
                | P::CertNotYetValid
                | P::CertExpiresSoon
                | P::CertUntrusted
                | P::CertAlreadyRegistered
        )
    }

    /// An archive that could not be opened whole.
    pub fn is_archive(self) -> bool {
        use ProblemCode as P;
        matches!(
            self,
            P::ArchiveTooDeep
                | P::ArchiveTooManyEntries
                | P::ArchiveTooLarge
                | P::ArchiveBomb
                | P::ArchiveEncrypted
                | P::ArchiveUnreadable
        )
    }
}

vocabulary! {
    /// How urgent a case is, as AGE's triage rules set it.
    pub enum Priority {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

vocabulary! {
    /// What a case's trail records (the `case_event` table).
    pub enum EventKind {
        MailReceived = "mail_received",
        DuplicateDelivery = "duplicate_delivery",
        Threaded = "threaded",
        CaseOpened = "case_opened",
        StageChanged = "stage_changed",
        RequestAssessed = "request_assessed",
        PrivateKeyReceived = "private_key_received",
        CertificateReceived = "certificate_received",
        DocumentSigned = "document_signed",
        Quarantined = "quarantined",
        Incident = "incident",
        ReplyQueued = "reply_queued",
        ReplySuppressed = "reply_suppressed",
        AlertQueued = "alert_queued",
        ReminderQueued = "reminder_queued",
        MailSent = "mail_sent",
        DeliveryFailed = "delivery_failed",
        Assigned = "assigned",
        Closed = "closed",
        DeadlineExtended = "deadline_extended",
    }
}

impl OutgoingKind {
    /// The event recorded when the scheduler queues mail of this kind.
    pub fn queued_event(self) -> EventKind {
        match self {
            OutgoingKind::Reply => EventKind::ReplyQueued,
            OutgoingKind::Alert => EventKind::AlertQueued,
            OutgoingKind::Reminder => EventKind::ReminderQueued,
        }
    }
}

/// The names of `items`, as the database and the text output list them.
pub fn names<T: Copy + Into<&'static str>>(items: &[T]) -> Vec<&'static str> {
    items.iter().map(|i| (*i).into()).collect()
}

/// `AGE-YYYY-NNNNN`: the case number of the `seq`th case of `year`.
pub fn format_case_number(year: i32, seq: i64) -> String {
    format!("AGE-{year}-{seq:05}")
}

/// `AGE-YYYY-NNNNN` (five or more digits).
pub fn is_case_number(s: &str) -> bool {
    let mut parts = s.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("AGE"), Some(y), Some(n), None)
            if y.len() == 4 && y.chars().all(|c| c.is_ascii_digit())
                && n.len() >= 5 && n.chars().all(|c| c.is_ascii_digit())
    )
}

/// Finds the `[AGE-YYYY-NNNNN]` tag in a subject.
pub fn subject_tag(subject: &str) -> Option<String> {
    // One pass over the "[AGE-" openings, each looked at up to its closing
    // bracket only when that is near: a tag is short.
    for (start, _) in subject.match_indices("[AGE-").take(64) {
        // The window may end inside a letter of the text after the tag.
        let tail = subject.get(start + 1..).unwrap_or_default();
        let window = crate::util::prefix(tail, 32);
        if let Some((tag, _)) = window.split_once(']')
            && is_case_number(tag)
        {
            return Some(tag.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_those_of_the_database_and_the_rules() {
        // The other names are pinned by the golden files and the migrations.
        assert_eq!(Stage::TestRegistration.as_str(), "test_registration");
        assert_eq!("test_registration".parse(), Ok(Stage::TestRegistration));
        assert_eq!(
            CaseStatus::WaitingForBeneficiary.to_string(),
            "waiting_for_beneficiary"
        );
        assert_eq!(
            serde_json::to_value(DeadlineKind::Examination).unwrap(),
            serde_json::json!("examination")
        );
        assert_eq!(
            ProblemCode::from(SignatureProblem::DigestMismatch).as_str(),
            "signature_digest_mismatch"
        );
        assert_eq!(
            ProblemCode::SignatureWeakKey.explained_by(),
            ProblemCode::SignatureProblem
        );
        assert!(ProblemCode::SignatureInvalid.needs_explanation());
        // The groups are those the names say.
        for code in ProblemCode::ALL {
            let name = code.as_str();
            assert_eq!(code.is_certificate(), name.starts_with("cert_"), "{name}");
            assert_eq!(code.is_archive(), name.starts_with("archive_"), "{name}");
            let detail = name.starts_with("signature_")
                && !matches!(
                    code,
                    ProblemCode::SignatureInvalid | ProblemCode::SignatureProblem
                );
            assert_eq!(!code.needs_explanation(), detail, "{name}");
        }
        assert!(ProblemCode::CertExpired.is_certificate() && ProblemCode::ArchiveBomb.is_archive());
        assert_eq!(Service::parse("msign"), Service::Msign);
        assert_eq!(Service::parse("other"), Service::Unknown);
        assert_eq!(Language::ALL, [Language::Ro, Language::Ru, Language::En]);
        assert_eq!(Stage::ALL.len(), 6);
        assert!(Stage::STEPS.iter().all(|s| s.is_step()));
        assert!(!Stage::Examination.is_step());
        assert!(CaseStatus::WaitingForBeneficiary.is_open() && !CaseStatus::Rejected.is_open());
        assert!(DeadlineKind::Answer.is_age() && !DeadlineKind::Followup.is_age());
    }

    #[test]
    fn case_numbers_and_tags() {
        assert_eq!(
            subject_tag("Re: [AGE-2026-00042] cerere"),
            Some("AGE-2026-00042".into())
        );
        assert_eq!(
            subject_tag("[AGE-26-1] [AGE-2026-1234] [AGE-2027-00001]"),
            Some("AGE-2027-00001".into())
        );
        assert_eq!(subject_tag("AGE-2026-00042"), None);
        assert_eq!(format_case_number(2026, 42), "AGE-2026-00042");
        assert_eq!(format_case_number(2026, 123456), "AGE-2026-123456");
    }

    /// Every prefix of subjects in Cyrillic and with Romanian diacritics: the
    /// tag window ends inside a letter for some of them, and must not panic.
    #[test]
    fn subject_tag_never_cuts_inside_a_letter() {
        let subjects = [
            "Re: [AGE-2026-00001] Запрос на интеграцию с MSign, уточнения",
            "Re: [AGE-2026-00001]Запрос",
            "RE: [AGE-2026-00001] Solicitare de integrare în MPass, instituția Primăria Bălți",
            "[AGE-2026-12345]șțăîâ ȘȚĂÎÂ",
            "[AGE-ЗапросЗапросЗапросЗапросЗапрос] [AGE-2026-00007] ок",
            "[AGE-2026-0000Ă] [AGE-2026-000001]",
            "Ответ: [AGE-2026-00042]",
        ];
        for subject in subjects {
            let ends = subject
                .char_indices()
                .map(|(i, _)| i)
                .chain([subject.len()]);
            for end in ends {
                let cut = &subject[..end];
                let tag = subject_tag(cut);
                if let Some(tag) = &tag {
                    assert!(is_case_number(tag), "{cut:?} gave {tag:?}");
                    assert!(cut.contains(&format!("[{tag}]")), "{cut:?} gave {tag:?}");
                }
            }
        }
        assert_eq!(
            subject_tag("Re: [AGE-2026-00001] Запрос на интеграцию с MSign, уточнения").as_deref(),
            Some("AGE-2026-00001")
        );
        assert_eq!(
            subject_tag("[AGE-ЗапросЗапросЗапросЗапросЗапрос] [AGE-2026-00007] ок").as_deref(),
            Some("AGE-2026-00007")
        );
        assert_eq!(
            subject_tag("[AGE-2026-0000Ă] [AGE-2026-000001]").as_deref(),
            Some("AGE-2026-000001")
        );
        assert_eq!(subject_tag("Re: [AGE-2026-00001"), None);
    }
}
