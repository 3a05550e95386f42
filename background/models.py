from django.db import models


class DeadLetter(models.Model):
    """A background task that gave up: its retries ran out, or (with no broker, tasks running inline)
    its one run failed. Kept with its arguments so an operator can run it again from the admin."""

    task_name = models.CharField(max_length=200, db_index=True)
    task_id = models.CharField(max_length=64, blank=True)
    kwargs = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField()
    error = models.TextField()
    traceback = models.TextField(blank=True)
    failed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    requeued_at = models.DateTimeField(null=True, blank=True, help_text="When an operator ran it again.")

    class Meta:
        ordering = ["-failed_at", "-id"]

    def __str__(self):
        return f"{self.task_name} failed after {self.attempts} attempt(s)"
