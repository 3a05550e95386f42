"""Which providers are on is decided by environment-driven settings alone."""

import ast
import logging
from pathlib import Path

import billing.providers
from billing.providers import enabled_providers, log_disabled_providers


def test_providers_without_configuration_are_disabled_and_logged(settings, caplog):
    settings.BILLING_MANUAL_ENABLED = False
    settings.PADDLE_API_KEY = ""
    settings.YOOKASSA_SHOP_ID = ""
    assert enabled_providers() == []
    with caplog.at_level(logging.INFO, logger="billing.providers"):
        log_disabled_providers()
    assert {"manual", "paddle", "yookassa"} <= {word for r in caplog.records for word in r.getMessage().split()}


def test_several_providers_can_be_enabled_at_once(settings):
    settings.BILLING_MANUAL_ENABLED = True
    settings.PADDLE_API_KEY, settings.PADDLE_WEBHOOK_SECRET = "key", ["secret"]
    settings.YOOKASSA_SHOP_ID, settings.YOOKASSA_SECRET_KEY = "1", "secret"
    assert enabled_providers() == ["manual", "paddle", "yookassa"]


def test_provider_adapters_never_import_billing_services():
    """Issue 11 #3: adapters translate, services decide; an adapter calling back into services is a circle."""
    for module in Path(billing.providers.__file__).parent.glob("*.py"):
        imported = {
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(ast.parse(module.read_text()))
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not {name for name in imported if name and name.startswith("billing.services")}, module.name
