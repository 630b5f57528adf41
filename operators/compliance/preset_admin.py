"""The workflow admin's regulatory part: the preset, its rules as a checklist
(each rule's label, what it does and, for the chosen preset, where the
regulation asks for it) and the settings the rules read, grouped together;
and a read-only page of every preset × rule × source for compliance.

Choosing a preset ticks its rules twice over: in the browser
(operators/static/operators/preset_rules.js, as soon as the preset changes)
and on save, when the rules were left empty. A preset rule switched off
otherwise is refused on the checklist by WorkflowTemplate._clean_rules."""

from django import forms
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kyc import regulations
from workflows.models import WorkflowTemplate

# The fields the rules read, shown under the checklist.
PRESET_SETTINGS_FIELDS = [
    "tan_channel",
    "security_features_minimum",
    "allowed_countries",
    "questions_drawn",
    "min_video_height",
    "min_frame_rate",
    "max_packet_loss_percent",
]


def source_text(source: regulations.Source) -> str:
    return f"{source.document}: {source.section}"


def preset_sources_by_rule() -> dict:
    """{preset: {rule: "document: section"}} for the checklist's script."""
    return {
        preset.code: {code: source_text(source) for code, source in preset.rules.items()}
        for preset in regulations.PRESETS.values()
    }


def _rule_choice_label(rule: regulations.Rule, preset_code: str):
    source = regulations.PRESETS.get(preset_code, regulations.PRESETS[regulations.CUSTOM]).rules.get(rule.code)
    return format_html(
        '<strong>{}</strong> <span class="rule-description">{}</span>'
        '<span class="rule-source" data-rule="{}">{}</span>',
        rule.label,
        rule.description,
        rule.code,
        gettext("Required by the preset: %(source)s") % {"source": source_text(source)} if source else "",
    )


class RuleChecklist(forms.CheckboxSelectMultiple):
    template_name = "operators/widgets/rule_checklist.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["preset_sources"] = preset_sources_by_rule()
        context["widget"]["required_by_text"] = gettext("Required by the preset: %(source)s")
        return context


class WorkflowTemplateForm(forms.ModelForm):
    rules = forms.MultipleChoiceField(
        label=capfirst(_("rules")),
        required=False,
        widget=RuleChecklist,
        help_text=_("The preset's rules are ticked when it is chosen and cannot be switched off."),
    )

    class Meta:
        model = WorkflowTemplate
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        preset_code = self.data.get("preset") if self.is_bound else self.instance.preset
        self.fields["rules"].choices = [
            (rule.code, _rule_choice_label(rule, preset_code)) for rule in regulations.RULES.values()
        ]

    def clean(self):
        cleaned = super().clean()
        preset = cleaned.get("preset")
        if preset in regulations.PRESETS and preset != regulations.CUSTOM and not cleaned.get("rules"):
            # Rules left empty: the preset's, as the script would have ticked them.
            cleaned["rules"] = sorted(regulations.preset_rules(preset))
            if regulations.RECORDING in cleaned["rules"]:
                cleaned["recording_required"] = True
        return cleaned
