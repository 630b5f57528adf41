"""The purge of erased evidence files (kyc.storage.stored_files_delete, which
also deletes recording chunks): a file that cannot be deleted stays named,
for the next run, and the others go."""

import logging
from pathlib import Path

from django.utils import timezone

from operators.compliance.retention import evidence_files_purge
from sessions_app.models import Evidence


def test_a_file_that_cannot_be_deleted_stays_named_for_the_next_run(reviewed_call, settings, monkeypatch, caplog):
    stuck, gone = reviewed_call.document, reviewed_call.face
    Evidence.objects.filter(pk__in=[stuck.pk, gone.pk]).update(erased_at=timezone.now())
    storage = stuck.file.storage
    delete = storage.delete

    def delete_all_but_stuck(name):
        if name == stuck.file.name:
            raise PermissionError(name)
        delete(name)

    monkeypatch.setattr(storage, "delete", delete_all_but_stuck)
    with caplog.at_level(logging.ERROR, logger="operators.compliance.retention"):
        assert evidence_files_purge(session_id=reviewed_call.session.pk) == 1

    assert Evidence.objects.get(pk=stuck.pk).file.name == stuck.file.name
    assert Evidence.objects.get(pk=gone.pk).file.name == ""
    assert not (Path(settings.EVIDENCE_ROOT) / gone.file.name).exists()
    assert [record.getMessage() for record in caplog.records] == [
        f"could not delete the file of erased evidence {stuck.pk}"
    ]

    monkeypatch.setattr(storage, "delete", delete)
    assert evidence_files_purge(session_id=reviewed_call.session.pk) == 1
    assert Evidence.objects.get(pk=stuck.pk).file.name == ""
