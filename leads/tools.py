"""`register_lead`: the model saves what a client told it they want, as a lead of the organization."""

from agents.tools import Tool, ToolContext, ToolError, register
from leads.services import register_lead


@register
class RegisterLead(Tool):
    name = "register_lead"
    description = (
        "Save the client as a sales lead once you know how to reach them and what they need. "
        "Call it again to add details; the owner is told at once."
    )
    parameters = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "The client's name", "examples": ["Maria Silva"]},
            "phone": {"type": "string", "description": "Phone number, if given", "examples": ["+351 912 345 678"]},
            "email": {"type": "string", "description": "E-mail address, if given", "examples": ["maria@example.com"]},
            "telegram": {"type": "string", "description": "Telegram handle, if given", "examples": ["@maria"]},
            "need": {"type": "string", "description": "What they want", "examples": ["A website for a bakery"]},
            "budget": {"type": "string", "description": "Budget, as they said it", "examples": ["2000 EUR"]},
            "notes": {"type": "string", "description": "Anything else useful", "examples": ["Call after 6 pm"]},
        },
        "required": ["need"],
    }

    def run(self, *, arguments: dict, context: ToolContext) -> dict:
        if context.contact_id is None:
            raise ToolError("Leads are registered only in conversations with the organization's clients.")
        lead, created = register_lead(
            organization_id=context.organization_id,
            contact_id=context.contact_id,
            conversation_id=getattr(context.conversation, "pk", None),
            deployment_id=context.deployment_id,
            details=arguments,
        )
        return {"lead_id": lead.pk, "status": "created" if created else "updated"}
