from deployments.tests.conftest import fake_telegram, tenant  # noqa: F401  (the same customer and fakes)
