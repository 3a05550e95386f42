from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class PolicyConfig(AppConfig):
    name = "policy"

    def ready(self):
        """Connect the cache invalidation of `policy.rules_cache` — not business logic.

        The policy keeps PolicyRule and PlanAgent rows in a per-process memo; whatever path writes them
        (the admin, a service, a cascade from deleting a plan, agent or organization, `plan.agents.set()`),
        the memo must be dropped everywhere, and a signal is the one hook all those paths share.
        """
        from billing.models import PlanAgent
        from policy.models import PolicyRule

        for model in (PolicyRule, PlanAgent):
            post_save.connect(_rules_changed, sender=model, dispatch_uid=f"policy.rules_cache.save.{model.__name__}")
            post_delete.connect(
                _rules_changed, sender=model, dispatch_uid=f"policy.rules_cache.delete.{model.__name__}"
            )
        m2m_changed.connect(_plan_agents_changed, sender=PlanAgent, dispatch_uid="policy.rules_cache.m2m")
        post_migrate.connect(_migrated, sender=self, dispatch_uid="policy.rules_cache.migrated")


def _rules_changed(sender, **kwargs):
    from policy.rules_cache import invalidate

    invalidate()


def _plan_agents_changed(sender, action, **kwargs):
    if action.startswith("post_"):
        _rules_changed(sender)


def _migrated(sender, using, apps=global_apps, **kwargs):
    """The rules' version token row exists once its table does, also after a flush empties it."""
    from policy.rules_cache import new_token

    try:
        model = apps.get_model("policy", "RulesVersion")
    except LookupError:  # migrated to a state before the table
        return
    model.objects.using(using).get_or_create(id=1, defaults={"token": new_token()})
