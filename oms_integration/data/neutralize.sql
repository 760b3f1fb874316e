-- A neutralized database is a copy of production (staging, a test restore):
-- its sources must neither poll the providers' real orders nor send status
-- callbacks to them. Pause every source that is not a draft (a paused source
-- also refuses webhooks), saying why and how to resume.
UPDATE oms_integration_source
   SET state = 'paused',
       copy_pause = 'neutralized',
       paused_reason = 'This database was neutralized (a copy of production): '
           'nothing is polled, sent or received. Check the provider API URL, '
           'the status callback URL and the credentials (they may still be '
           'production''s), then click Activate.'
 WHERE state != 'draft';

-- Credentials written into URLs (https://user:password@host/...) are removed,
-- the rest of the URL is kept.
UPDATE oms_integration_source
   SET callback_url = regexp_replace(callback_url, '^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@', '\1')
 WHERE callback_url ~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@';

UPDATE oms_integration_source
   SET api_base_url = regexp_replace(api_base_url, '^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@', '\1')
 WHERE api_base_url ~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@';
