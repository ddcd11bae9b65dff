"""Four-eyes approval and the delivery of takedown requests to operators (issue 5).

DESIGN.md "Takedown request to an operator", "Delivery guarantees" and "Deadlines":

- An approval writes the TakedownRequest row in its own transaction (the outbox) and queues
  the delivery task on commit. If Redis is down then, the approval still succeeds; the
  sweeper finds the row later.
- A delivery claims its row with a conditional update (pending -> sent), so only one worker
  calls the operator for a request at a time; the request id is the Idempotency-Key on every
  attempt, so a repeat after a lost worker is answered 409 and acted on once.
- Each HTTP call is a DeliveryAttempt: the history that explains what happened.
"""

from moderation.takedowns.services.approvals import (  # noqa: F401 - the package's API
    BulkResult,
    proposal_approve,
    proposal_reject,
    proposals_bulk_approve,
    takedown_deadline,
    takedown_urgency,
)
from moderation.takedowns.services.callbacks import (  # noqa: F401 - the package's API
    CALLBACK_OUTCOMES,
    RESTORE_OUTCOMES,
    CallbackResult,
    takedown_callback,
)
from moderation.takedowns.services.common import (  # noqa: F401 - the package's API
    CANCELLABLE,
    DEADLINE,
    DUE_TOLERANCE,
    FINAL,
    UNCONFIRMED,
    URGENT_DEADLINE,
    ApprovalRefused,
    Status,
    TakedownActionRefused,
)
from moderation.takedowns.services.delivery import (  # noqa: F401 - the package's API
    platform_rate_wait,
    restore_deliver,
    restore_payload,
    restore_sweep,
    retry_delay,
    takedown_callback_url,
    takedown_deliver,
    takedown_payload,
    takedown_sweep,
)
from moderation.takedowns.services.restores import (  # noqa: F401 - the package's API
    restore_request_create,
)
from moderation.takedowns.services.supervision import (  # noqa: F401 - the package's API
    restore_cancel,
    restore_retry,
    takedown_cancel,
    takedown_retry,
    takedown_sla_check,
    warning_thresholds,
)
