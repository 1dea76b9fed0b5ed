"""The seed's backup automation pipeline: generate a backup, transfer it, notify.

Generation starts in ``on_start`` and is found complete in ``on_continue``; it hands the
backup's path to the transfer step through ``self.context``.
"""

from __future__ import annotations

from prorch_nb.decorators.decorators import register_pipeline, register_step
from prorch_nb.mixins.on_continue import OnContinueMixin
from prorch_nb.mixins.on_start import OnStartMixin
from prorch_nb.pipeline.pipeline import Pipeline
from prorch_nb.step.step import Step
from prorch_nb.utils.uuids import short_uuid


@register_step
class BackupGeneration(OnStartMixin, OnContinueMixin, Step):
    """Start a backup, then report it complete."""

    name = "BackupGeneration"

    def on_start(self) -> None:
        print("Starting the backup generation process.")
        self.metadata["started"] = True

    def on_continue(self) -> None:
        print("Backup generation completed.")
        self.context["backup_path"] = f"/backups/{short_uuid(self.pipeline_uuid)}.tar.gz"
        self.finish()


@register_step
class BackupTransfer(OnStartMixin, OnContinueMixin, Step):
    """Send the backup made by the previous step to safe storage."""

    name = "BackupTransfer"

    def on_start(self) -> None:
        print(f"Transferring {self.context['backup_path']} to safe storage.")

    def on_continue(self) -> None:
        print("Transfer completed.")
        self.finish()


@register_step
class ProcessCompletionNotification(OnStartMixin, Step):
    """Tell someone the backup is safe."""

    name = "ProcessCompletionNotification"

    def on_start(self) -> None:
        print(f"Notifying: backup {self.context['backup_path']} is safe.")
        self.finish()


@register_pipeline
class BackupAutomationPipeline(Pipeline):
    """Backup generation, transfer to safe storage, notification."""

    name = "BackupAutomationPipeline"
    steps = [BackupGeneration, BackupTransfer, ProcessCompletionNotification]
