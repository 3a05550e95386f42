"""The demo catalog for `make run`: providers, model prices and four agents with prompt history.

Everything is created through the same services an operator uses, and only when
missing: an agent that exists (by slug) is left as the operator last edited it.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from agents.models import Agent, LLMProvider, ModelPrice, ProviderKind
from agents.provider_keys import set_api_key
from billing.models import Plan, PlanAgent
from prompts import services as prompt_services

logger = logging.getLogger(__name__)

DEMO_PROVIDER_NAME = "demo"
OPENAI_PROVIDER_NAME = "openai"

_LANGUAGE_RULE = "Always reply in the language the user writes in, unless they explicitly ask for another one."

# (slug, name, description, plan codes, [older prompt, current prompt]); each prompt is
# (system_prompt, template, temperature, note).
DEMO_AGENTS = [
    (
        "sales-bot",
        "Sales Bot",
        "Writes and improves sales e-mails, follow-ups and objection handling.",
        ["daily", "weekly", "monthly", "yearly"],
        [
            (
                "You are a sales assistant. Help the user write short, friendly sales messages. " + _LANGUAGE_RULE,
                "{input}",
                "0.70",
                "First version: generic sales helper.",
            ),
            (
                "You are an experienced B2B sales copywriter. Help the user sell: draft cold e-mails, "
                "follow-ups, LinkedIn messages and answers to objections.\n"
                "Rules:\n"
                "- Lead with the customer's problem, not the product; one clear call to action.\n"
                "- Keep e-mails under 120 words unless asked otherwise; offer a subject line.\n"
                "- Never invent prices, discounts, customer names or results; ask for them if needed.\n"
                "- If the request is vague, ask at most two clarifying questions first.\n" + _LANGUAGE_RULE,
                "Sales request:\n{input}",
                "0.60",
                "Tighter rules: no invented facts, one call to action, subject lines.",
            ),
        ],
    ),
    (
        "support-bot",
        "Support Bot",
        "Drafts calm, accurate replies to customer support tickets.",
        ["daily", "weekly", "monthly", "yearly"],
        [
            (
                "You are a customer support agent. Answer the customer's question politely. " + _LANGUAGE_RULE,
                "{input}",
                "0.50",
                "First version.",
            ),
            (
                "You are a senior customer support agent. The user pastes a customer's message or describes "
                "a support case; you write the reply the support team will send.\n"
                "- Acknowledge the problem in one sentence, then give concrete numbered steps.\n"
                "- Be warm and calm; never blame the customer; no filler apologies.\n"
                "- If information is missing (order number, device, error text), ask for exactly what is needed.\n"
                "- Never promise refunds, compensation or dates you cannot know; suggest escalation instead.\n"
                + _LANGUAGE_RULE,
                "Support case:\n{input}",
                "0.40",
                "Structured replies, escalation instead of promises.",
            ),
        ],
    ),
    (
        "translator",
        "Translator",
        "Translates text faithfully, keeping tone, formatting and terminology.",
        ["monthly", "yearly"],
        [
            (
                "You are a translator. Translate the user's text into English; if it is already English, "
                "translate it into Russian. Output only the translation.",
                "{input}",
                "0.20",
                "First version: English and Russian only.",
            ),
            (
                "You are a professional translator. Translate the text the user sends.\n"
                "- If the user names a target language, translate into it. Otherwise translate into English, "
                "or, when the text is already in English, into the language the user usually writes in "
                "(Russian if unsure).\n"
                "- Keep the meaning, tone, formatting, lists, code and placeholders exactly; do not add or drop "
                "content.\n"
                "- Output only the translation. If a term is ambiguous, add one short translator's note at the "
                "end, written in the user's language.",
                "{input}",
                "0.20",
                "Any language pair; keeps formatting; notes only for ambiguity.",
            ),
        ],
    ),
    (
        "legal-advisor",
        "Legal Advisor",
        "Explains contracts and legal questions in plain words (not a substitute for a lawyer).",
        ["yearly"],
        [
            (
                "You are a legal assistant. Explain legal questions simply. " + _LANGUAGE_RULE,
                "{input}",
                "0.30",
                "First version.",
            ),
            (
                "You are a careful legal information assistant. You explain contracts, clauses and legal "
                "questions in plain words for non-lawyers.\n"
                "- Start with a two-sentence summary, then the key points, risks and questions to ask.\n"
                "- Laws differ by country: ask which jurisdiction applies when it matters, and say when an "
                "answer depends on it.\n"
                "- Do not invent statutes, case names or article numbers; say when you are not sure.\n"
                "- End with one line reminding the user that this is general information, not legal advice, "
                "and that a licensed lawyer should review important decisions.\n" + _LANGUAGE_RULE,
                "Question or clause:\n{input}",
                "0.20",
                "Summary first, jurisdiction-aware, explicit disclaimer.",
            ),
        ],
    ),
]

# USD per 1M tokens (input, output), so usage reports show a cost from the first call. The offline demo
# provider's calls are metered as model "demo", priced like gpt-4o-mini, so a demo's analytics show a margin.
DEMO_MODEL_PRICES = {
    "demo": (Decimal("0.15"), Decimal("0.60")),
    "gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")),
    "gpt-4o": (Decimal("2.50"), Decimal("10.00")),
    "gpt-4.1-mini": (Decimal("0.40"), Decimal("1.60")),
}


def seed_providers() -> LLMProvider:
    """Make an OpenAI provider from OPENAI_API_KEY / OPENAI_BASE_URL the default, else keep a demo one."""
    with transaction.atomic():
        if settings.OPENAI_API_KEY:
            provider, _ = LLMProvider.objects.get_or_create(
                name=OPENAI_PROVIDER_NAME, defaults={"kind": ProviderKind.OPENAI}
            )
            LLMProvider.objects.filter(is_default=True).exclude(pk=provider.pk).update(is_default=False)
            provider.kind = ProviderKind.OPENAI
            provider.base_url = settings.OPENAI_BASE_URL
            provider.is_default = True
            provider.save(update_fields=["kind", "base_url", "is_default"])
            set_api_key(provider, settings.OPENAI_API_KEY)
            return provider
        has_default = LLMProvider.objects.filter(is_default=True).exists()
        provider, _ = LLMProvider.objects.get_or_create(
            name=DEMO_PROVIDER_NAME, defaults={"kind": ProviderKind.DEMO, "is_default": not has_default}
        )
        return provider


def seed_catalog() -> list[str]:
    """Create the demo providers, prices and agents that are missing; return the agent slugs created."""
    seed_providers()
    for model, (input_price, output_price) in DEMO_MODEL_PRICES.items():
        ModelPrice.objects.get_or_create(
            model=model, defaults={"input_per_1m": input_price, "output_per_1m": output_price}
        )
    created = []
    for slug, name, description, plan_codes, prompts in DEMO_AGENTS:
        with transaction.atomic():
            agent, is_new = Agent.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
            if not is_new:
                continue
            for system_prompt, template, temperature, note in prompts:
                version = prompt_services.create_draft(
                    agent=agent, system_prompt=system_prompt, template=template, temperature=temperature, note=note
                )
                prompt_services.activate_version(version=version)
            # One save per row (not bulk_create): the policy's rules memo hears of each new membership.
            for plan in Plan.objects.filter(code__in=plan_codes):
                PlanAgent.objects.create(plan=plan, agent=agent)
        created.append(slug)
        logger.info("Seeded demo agent %s", slug)
    return created
