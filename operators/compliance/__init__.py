"""Compliance: everything a reviewer sees of a session after the call, in one
place.

- access: who may review, and the audit of every look at personal data;
- review: a session's full record, its review page's content and the export;
- admin: the read-only, audited admin of sessions, participants, evidence,
  recordings, steps and check results, with the review page per session;
- recording_views: the recording's authorised stream and its player beside
  the audit timeline;
- retention: erasure of personal data and evidence after the business's
  retention period.
"""
