"""The beat scheduler: django-celery-beat's database scheduler, firing only while this process holds the beat lock."""

from django_celery_beat.schedulers import DatabaseScheduler

from console.beat_lock import Leadership

# How soon a beat that stands by notices that it took the lock.
STANDBY_TICK_SECONDS = 1.0


class SingletonDatabaseScheduler(DatabaseScheduler):
    def __init__(self, *args, **kwargs):
        # Each firing's last run is written at once, so a beat taking over does not fire it again.
        kwargs.setdefault("sync_every_tasks", 1)
        super().__init__(*args, **kwargs)
        # Started on the first tick: `celery beat` also builds a scheduler only to print its banner.
        self.leadership = None
        self._leading = False

    def tick(self, *args, **kwargs):
        if self.leadership is None:
            self.leadership = Leadership.from_settings().start()
        if not self.leadership.is_leader():
            self._leading = False
            return min(self.max_interval, STANDBY_TICK_SECONDS)
        if not self._leading:
            self._read_schedule_afresh()
            self._leading = True
        return super().tick(*args, **kwargs)

    def _read_schedule_afresh(self):
        """The entries as the previous holder left them: loaded while standing by, they miss its firings since."""
        self._initial_read = True
        self._heap = None
        # Consumed by the tick that rebuilds the heap from fresh entries; left set, it would make the next tick
        # rebuild it from entries that do not know the firings of the first (and fire them again).
        self._heap_invalidated = False

    def close(self):
        super().close()
        if self.leadership is not None:
            self.leadership.stop()
