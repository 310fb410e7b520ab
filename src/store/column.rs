//! How typed values meet the database's TEXT columns.
//!
//! Dates and times are written as [`crate::util::timestamp`] text (always
//! UTC, milliseconds, `Z`), so that text order is time order in SQL; they
//! are read back as `chrono` values through sqlx, and shown again in that
//! same form ([`time`], [`optional_time`]). Where one damaged row must not
//! fail a query that serves every case (the outbox, the scheduler), a
//! column is read through [`Lenient`]: a value that does not decode reads
//! as unknown.

use chrono::{DateTime, Utc};
use serde::Serializer;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Sqlite, Type};

/// A column read leniently: `None` when the value is NULL or does not
/// decode as `T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lenient<T>(pub Option<T>);

impl<T> Type<Sqlite> for Lenient<T> {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    // Whatever the column holds is read, and judged by decoding it.
    fn compatible(_: &SqliteTypeInfo) -> bool {
        true
    }
}

impl<'r, T: Decode<'r, Sqlite>> Decode<'r, Sqlite> for Lenient<T> {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Lenient(T::decode(value).ok()))
    }
}

/// Shows a time as the database holds it.
pub fn time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::util::timestamp(*t))
}

/// [`time`] for a time that may be unset.
pub fn optional_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => time(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::store::Store;

    #[derive(sqlx::FromRow)]
    struct Row {
        at: Lenient<DateTime<Utc>>,
        day: Lenient<NaiveDate>,
    }

    async fn read(at: Option<&str>, day: Option<&str>) -> Row {
        let store = Store::memory().await.unwrap();
        sqlx::query_as("SELECT ? AS at, ? AS day")
            .bind(at)
            .bind(day)
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn what_was_written_reads_back_and_damage_reads_as_unknown() {
        let t = DateTime::parse_from_rfc3339("2026-12-07T09:30:00.250Z")
            .unwrap()
            .with_timezone(&Utc);
        let row = read(Some(&crate::util::timestamp(t)), Some("2026-12-24")).await;
        assert_eq!(row.at.0, Some(t));
        assert_eq!(row.day.0, NaiveDate::from_ymd_opt(2026, 12, 24));
        let row = read(Some("yesterday"), Some("24.12.2026")).await;
        assert_eq!((row.at.0, row.day.0), (None, None));
        let row = read(None, None).await;
        assert_eq!((row.at.0, row.day.0), (None, None));
    }

    #[test]
    fn times_are_shown_as_stored() {
        #[derive(serde::Serialize)]
        struct View {
            #[serde(serialize_with = "time")]
            at: DateTime<Utc>,
            #[serde(serialize_with = "optional_time")]
            sent: Option<DateTime<Utc>>,
        }
        let at = DateTime::parse_from_rfc3339("2026-01-05T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let json = serde_json::to_string(&View { at, sent: None }).unwrap();
        assert_eq!(json, r#"{"at":"2026-01-05T09:00:00.000Z","sent":null}"#);
    }
}
