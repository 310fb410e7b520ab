-- Certificates are also found by serial: AGE takes the serial number of a
-- certificate already registered for the system instead of the .cer.
-- Lowercase hex without separators or leading zeros (facts::normal_serial).
ALTER TABLE attachment ADD COLUMN cert_serial TEXT;
UPDATE attachment
   SET cert_serial = ltrim(lower(replace(json_extract(details, '$.certificate.serial'), ':', '')), '0')
 WHERE cert_sha256 IS NOT NULL;
CREATE INDEX attachment_by_serial ON attachment(cert_serial);
