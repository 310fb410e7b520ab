-- The scheduler reads a deadline only when something can be due: on or
-- after next_check (a date, Europe/Chisinau), or when its case changed
-- after checked_at. A deadline never checked (checked_at NULL) is read at
-- the next tick; one whose due date moves is reset to that.
ALTER TABLE deadline ADD COLUMN next_check TEXT;
ALTER TABLE deadline ADD COLUMN checked_at TEXT;
CREATE INDEX deadline_to_check ON deadline(met_at, cancelled_at, next_check);
