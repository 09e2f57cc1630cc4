"""The seeded pathways and coverage rules, and the checks an admin's edit goes through."""

import pytest
from django.core.exceptions import ValidationError

from clinic.seeding import seed_clinic_reference_data
from conditions.models import CoverageRule, Pathway, PathwayRule, PathwayStep
from conditions.seeding import COVERAGE_RULES, PATHWAYS, seed_conditions, seed_coverage_rules, seed_pathways

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    seed_clinic_reference_data()
    seed_conditions()
    return seed_pathways(), seed_coverage_rules()


def test_every_default_pathway_and_rule_is_seeded_once(seeded):
    assert seeded == (len(PATHWAYS), len(COVERAGE_RULES))
    assert (seed_pathways(), seed_coverage_rules()) == (0, 0)


def test_the_facet_path_reads_as_the_seeds_describe(seeded):
    facet = Pathway.objects.get(slug="facet-mediated-pain")
    labels = [s.label for s in facet.steps.all()]
    assert labels == ["Imaging of the spine", "MBB #1", "MBB #2", "Radiofrequency ablation"]
    after_first = list(PathwayRule.objects.filter(after_step__code="mbb-1", pathway=facet).order_by("priority"))
    assert [(r.relief_at_least, r.relief_below, r.then, r.next_step and r.next_step.code) for r in after_first] == [
        (80, None, "step", "mbb-2"),
        (None, 80, "stop", None),
    ]


def test_every_coverage_rule_cites_its_source(seeded):
    for rule in CoverageRule.objects.all():
        assert any(source in rule.text for source in ("LCD", "CPB", "Clinic policy")), rule.topic
        assert rule.procedure_types.exists(), rule.topic


def test_a_rule_may_not_lead_to_a_step_of_another_pathway(seeded):
    facet = Pathway.objects.get(slug="facet-mediated-pain")
    elsewhere = PathwayStep.objects.get(pathway__slug="radicular-pain", code="neurosurgery")
    rule = PathwayRule(
        pathway=facet, after_step=facet.steps.get(code="mbb-1"), then="step", next_step=elsewhere, priority=9
    )
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert caught.value.message_dict["next_step"] == [
        '"Referral to a neurosurgeon" is a step of Radicular pain, not of this pathway.'
    ]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"relief_at_least": 120}, "relief_at_least", "A percent is between 0 and 100."),
        ({"then": "step"}, "next_step", "Choose the step this rule leads to."),
        ({"pain_at_least": 11}, "pain_at_least", "A pain score is between 0 and 10."),
    ],
)
def test_bad_rule_numbers_get_specific_messages(seeded, fields, field, message):
    facet = Pathway.objects.get(slug="facet-mediated-pain")
    rule = PathwayRule(pathway=facet, after_step=facet.steps.get(code="mbb-1"), then="wait", priority=9)
    for name, value in fields.items():
        setattr(rule, name, value)
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert message in caught.value.message_dict[field]


def test_a_coverage_rule_says_what_it_is_missing():
    rule = CoverageRule(topic="x", name="X", text="Clinic policy", kind="max_sessions")
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert caught.value.message_dict["max_count"] == ["Say how many sessions at most."]
    rule = CoverageRule(topic="x", name="X", text="Clinic policy", kind="repeat_relief", min_relief=101)
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert "A percent is between 0 and 100." in str(caught.value)
