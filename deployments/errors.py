"""Error codes of deployments (an agent published as a customer's own Telegram bot or web widget)."""

from botgeneric.errors import ErrorCode


class DeploymentErrorCode(ErrorCode):
    BOT_IN_USE = "bot_in_use", "This bot is already deployed; delete that deployment first."
    TELEGRAM_ERROR = "telegram_error", "Telegram could not connect the bot; try again."
    DEPLOYMENT_UNAVAILABLE = "deployment_unavailable", "The deployment cannot answer right now."
    VISITOR_RATE_LIMITED = "visitor_rate_limited", "This visitor writes too fast; wait a little."
    INVALID_VISITOR = "invalid_visitor", "The visitor token is not valid for this deployment."
