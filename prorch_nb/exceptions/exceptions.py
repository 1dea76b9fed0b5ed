"""Every exception prorch_nb raises.

Each class also subclasses the builtin that fits, so ``except ValueError`` keeps working::

    ProrchError
    ├── PipelineNameNotDefinedException   (TypeError)   a Pipeline subclass without ``name``
    ├── StepsNotDefinedException          (TypeError)   a Pipeline subclass without ``steps``
    ├── StepNameNotDefinedException       (TypeError)   a Step subclass without ``name``
    ├── PipelineNotDefinedException       (ValueError)  a step created without a pipeline uuid
    ├── RepositoryNotDefinedException     (TypeError)   no usable repository class given
    ├── RecordError                       (LookupError) a stored record the engine cannot use
    │   ├── RecordNotFoundError                         no record with that uuid
    │   ├── InvalidRecordError                          a record missing fields or of the wrong shape
    │   └── NotRegisteredError                          a stored name with no registered class
    ├── InvalidTransitionError            (ValueError)  changing a status that has ended
    │   └── ConcurrentChangeError                       ...because someone else ended it meanwhile
    ├── StepHookError                     (RuntimeError) a step's hook raised; the step is failed
    ├── StepTimeoutError                  (TimeoutError) a step still pending at its deadline; it is failed
    ├── NotJSONError                      (TypeError)   a metadata or context value JSON would not keep
    ├── RegistrationError                 (ValueError)  a name registered by another class already
    └── StoreFileError                    (OSError)     a database file that cannot be read or written
        └── StoreConflictError                          another program changed records the journal changed too

    StoreWarning                          (UserWarning) the store did something you should know of
    MalformedRecordWarning                (UserWarning) a view left out stored records it cannot show
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prorch_nb.record_checks import MalformedRecord


class ProrchError(Exception):
    """Base class of every prorch_nb error."""


class PipelineNameNotDefinedException(ProrchError, TypeError):
    """A Pipeline subclass has no ``name``."""


class StepsNotDefinedException(ProrchError, TypeError):
    """A Pipeline subclass has no ``steps``."""


class StepNameNotDefinedException(ProrchError, TypeError):
    """A Step subclass has no ``name``."""


class PipelineNotDefinedException(ProrchError, ValueError):
    """A step was created without the uuid of its pipeline."""


class RepositoryNotDefinedException(ProrchError, TypeError):
    """No repository class, or something that is not one, was given."""


class RecordError(ProrchError, LookupError):
    """A stored record the engine cannot use; the message names the record."""


class RecordNotFoundError(RecordError):
    """No record with the requested uuid."""


class InvalidRecordError(RecordError):
    """A record lacks a required field or has one of the wrong type."""


class NotRegisteredError(RecordError):
    """A stored pipeline or step name has no registered class in this process."""


class InvalidTransitionError(ProrchError, ValueError):
    """A status change that is not allowed, such as leaving an ended status."""


class ConcurrentChangeError(InvalidTransitionError):
    """Someone else (another worker, a person) ended the record since it was read."""


class StepHookError(ProrchError, RuntimeError):
    """A step's ``on_start`` or ``on_continue`` raised; the step has been marked failed.

    The original exception is the ``__cause__``; the step record stores its type, message
    and traceback.
    """


class StepTimeoutError(ProrchError, TimeoutError):
    """A step with a ``timeout`` was still pending at its deadline; the step has been marked failed."""


class NotJSONError(ProrchError, TypeError):
    """A value in ``metadata`` or ``context`` that JSON cannot hold, or would change; the message names its key."""


class RegistrationError(ProrchError, ValueError):
    """A pipeline or step name is registered already, by another class; the message names both."""


class StoreFileError(ProrchError, OSError):
    """A database file is unreadable, corrupt or of the wrong shape; it was left untouched."""


class StoreConflictError(StoreFileError):
    """Another program changed records in the file that prorch_nb's journal changed too.

    Nothing was overwritten; ``conflicts`` lists the records.
    """

    def __init__(self, message: str, conflicts: list) -> None:
        super().__init__(message)
        self.conflicts = conflicts


class StoreWarning(UserWarning):
    """The store set a journal aside, or could not fold it (every commit is safe)."""


class MalformedRecordWarning(UserWarning):
    """A view left out records it cannot show; ``records`` describes each, ``repository`` names their store.

    Turn it into an error with ``warnings.simplefilter("error", MalformedRecordWarning)``.
    """

    def __init__(self, message: str, repository: str = "", records: Sequence[MalformedRecord] = ()) -> None:
        super().__init__(message)
        self.repository = repository
        self.records = list(records)
