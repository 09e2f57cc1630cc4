"""The clinic's starting clinical data, created if missing and never overwritten (admins
edit them): the conditions it treats (shared/DOMAIN.md, seed 001), the treatment pathways
(seeds 000 and 001) and the coverage rules (Medicare's LCDs)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.text import slugify

from clinic.models import ProcedureType
from conditions.models import BodyRegion, Condition, CoverageRule, Pathway, PathwayRule, PathwayStep
from conditions.sites import RegionGrouping

R = BodyRegion

CONDITIONS: list[tuple[str, str, str]] = [
    ("Lower back pain", R.LOWER_BACK, "Pain in the lumbar spine from joints, discs, nerves or muscles."),
    ("Mid-back pain", R.CHEST_UPPER_BACK,
     "Thoracic pain from the facet joints, the nerve roots or the muscles; each has its own treatment path."),
    ("Neck pain", R.NECK, "Pain in the cervical spine, often from worn facet joints or discs."),
    ("Lumbar radicular pain", R.LOWER_BACK, "Pain spreading down the leg from an irritated lumbar nerve root."),
    ("Cervical radicular pain", R.NECK, "Pain spreading into the arm from an irritated cervical nerve root."),
    ("Joints/bursa pain", R.JOINTS, "Pain from arthritic joints or inflamed bursae (hip, knee, shoulder)."),
    ("Neuropathic pain", R.WIDESPREAD, "Burning or shooting pain from damaged or irritated nerves."),
    ("Fibromyalgia", R.WIDESPREAD, "Widespread muscle pain and tenderness with poor sleep and fatigue."),
    ("Facial pain and headaches", R.HEAD, "Facial pain and headaches, including nerve-related pain."),
    ("Compression fractures", R.CHEST_UPPER_BACK,
     "Vertebral compression fractures from osteoporosis, myeloma, metastasis or trauma; confirmed with imaging."),
    ("Failed back syndrome", R.LOWER_BACK, "Pain that persists or returns after spine surgery."),
    ("Complex regional pain", R.LOWER_EXTREMITY,
     "Complex regional pain syndrome: severe limb pain with swelling and skin changes after an injury."),
    ("Abdominal/pelvic pain", R.ABDOMEN, "Chronic pain in the abdomen or pelvis, sometimes treated with plexus blocks."),
    ("Cancer pain", R.WIDESPREAD, "Pain caused by cancer or its treatment."),
    ("Central pain syndrome", R.WIDESPREAD, "Pain from damage to the brain or spinal cord, e.g. after a stroke."),
    ("Facet joint pain", R.LOWER_BACK,
     "Deep, gnawing spinal pain from arthritic facet joints, worst when turning or leaning back (neck, mid or low back)."),
    ("Radicular pain", R.LOWER_BACK, "Pain along an irritated, swollen nerve root in a tightened foramen."),
    ("Myofascial pain", R.WIDESPREAD, "Pain from tight, tender muscle knots; always part of back and neck pain."),
    ("Sacroiliac joint pain", R.PELVIS, "Low back and buttock pain from the sacroiliac joint."),
]  # fmt: skip


def seed_conditions() -> int:
    """Create the conditions that are missing; returns how many were created."""
    created = 0
    for name, region, summary in CONDITIONS:
        created += Condition.objects.get_or_create(
            slug=slugify(name), defaults={"name": name, "body_region": region, "summary": summary}
        )[1]
    return created


# --- Pathways ------------------------------------------------------------------------------
# Steps: (code, label, procedure slug or None, action, specialty).
# Rules: (after step, then, next step, explanation, conditions) with conditions as
# PathwayRule fields (relief_at_least, relief_below, relief_weeks_at_least, relief_wore_off,
# done_at_least, wait_days); tried in the order written.

A = PathwayStep.Action
THEN = PathwayRule.Then


@dataclass(frozen=True)
class PathwayDefault:
    slug: str
    name: str
    condition: str
    codes: str
    summary: str
    steps: list[tuple[str, str, str | None, str, str]]
    rules: list[tuple[str, str, str | None, str, dict]] = field(default_factory=list)


PATHWAYS = [
    PathwayDefault(
        "facet-mediated-pain",
        "Facet-mediated neck or back pain",
        "facet-joint-pain",
        "M47.81, M47.89, M54.2, M54.5, M54.6",
        "Imaging, then two diagnostic medial branch blocks each with at least 80% relief, then radiofrequency "
        "ablation of the same site; repeated when its relief lasted and wore off, no sooner than 6 months.",
        [
            ("imaging", "Imaging of the spine", None, A.IMAGING, ""),
            ("mbb-1", "MBB #1", "medial-branch-block", "", ""),
            ("mbb-2", "MBB #2", "medial-branch-block", "", ""),
            ("rfa", "Radiofrequency ablation", "radiofrequency-ablation", "", ""),
        ],
        [
            ("imaging", THEN.STEP, "mbb-1", "imaging reviewed: next is the first diagnostic block", {}),
            ("mbb-1", THEN.STEP, "mbb-2", "a confirming second block", {"relief_at_least": 80}),
            ("mbb-1", THEN.STOP, None, "below the threshold: stop the facet path and re-evaluate",
             {"relief_below": 80}),
            ("mbb-2", THEN.STEP, "rfa", "two qualifying blocks: ablation of the same site", {"relief_at_least": 80}),
            ("mbb-2", THEN.STOP, None, "below the threshold: stop the facet path and re-evaluate",
             {"relief_below": 80}),
            ("rfa", THEN.STEP, "rfa", "relief lasted and wore off: repeat the ablation",
             {"relief_at_least": 50, "relief_wore_off": True, "wait_days": 183}),
            ("rfa", THEN.WAIT, None, "relief still going on: nothing to do yet",
             {"relief_at_least": 50, "relief_wore_off": False}),
            ("rfa", THEN.STOP, None, "the ablation did not help enough: re-evaluate", {"relief_below": 50}),
        ],
    ),
    PathwayDefault(
        "radicular-pain",
        "Radicular pain",
        "radicular-pain",
        "M54.1, M51.1, M54.3, M54.4, M48.0",
        "Epidural steroid injections, repeated while the patient rehabilitates when relief of at least 50% lasted "
        "3 months and wore off; after 2 without that, or at the session limit, a neurosurgery referral.",
        [
            ("esi", "Epidural steroid injection", "epidural-steroid-injection", "", ""),
            ("neurosurgery", "Referral to a neurosurgeon", None, A.REFER_OUT, "Neurosurgery"),
        ],
        [
            ("esi", THEN.STEP, "neurosurgery", "at the session limit: escalate to a neurosurgeon",
             {"done_at_least": 4}),
            ("esi", THEN.STEP, "esi", "relief lasted and wore off: repeat while rehabilitating",
             {"relief_at_least": 50, "relief_weeks_at_least": 12, "relief_wore_off": True}),
            ("esi", THEN.WAIT, None, "relief still going on: nothing to do yet",
             {"relief_at_least": 50, "relief_wore_off": False}),
            ("esi", THEN.STEP, "neurosurgery", "no sustained relief after two injections: escalate to a neurosurgeon",
             {"done_at_least": 2}),
            ("esi", THEN.STEP, "esi", "no sustained relief yet: one more injection", {}),
        ],
    ),
    PathwayDefault(
        "myofascial-pain",
        "Myofascial pain",
        "myofascial-pain",
        "M79.1, M62.83, M79.7",
        "Physical therapy with trigger point injections; repeated when relief wore off.",
        [
            ("physical-therapy", "Physical therapy", None, A.PHYSICAL_THERAPY, ""),
            ("trigger-points", "Trigger point injections", "trigger-point-injections", "", ""),
        ],
        [
            ("physical-therapy", THEN.STEP, "trigger-points", "with physical therapy: trigger point injections", {}),
            ("trigger-points", THEN.STEP, "trigger-points", "relief wore off: repeat with physical therapy",
             {"relief_at_least": 50, "relief_wore_off": True}),
            ("trigger-points", THEN.WAIT, None, "relief still going on: nothing to do yet",
             {"relief_at_least": 50, "relief_wore_off": False}),
            ("trigger-points", THEN.STOP, None, "little relief: re-evaluate", {"relief_below": 50}),
        ],
    ),
    PathwayDefault(
        "vertebral-compression-fracture",
        "Vertebral compression fracture",
        "compression-fractures",
        "M80, M48.5, S22.0, S32.0",
        "Imaging confirming an acute fracture, then kyphoplasty (or vertebroplasty).",
        [
            ("imaging", "Imaging confirming an acute fracture", None, A.IMAGING, ""),
            ("kyphoplasty", "Kyphoplasty", "kyphoplasty", "", ""),
            ("vertebroplasty", "Vertebroplasty", "vertebroplasty", "", ""),
        ],
        [("imaging", THEN.STEP, "kyphoplasty", "an acute fracture on imaging: kyphoplasty (or vertebroplasty)", {})],
    ),
    PathwayDefault(
        "sacroiliac-joint-pain",
        "Sacroiliac joint pain",
        "sacroiliac-joint-pain",
        "M53.3, M46.1, M53.2X8",
        "A diagnostic injection with at least 75% relief, then therapeutic injections repeated when at least 50% "
        "relief lasted 3 months and wore off.",
        [
            ("si-diagnostic", "Diagnostic SI joint injection", "sacroiliac-joint-diagnostic-injection", "", ""),
            ("si-therapeutic", "Therapeutic SI joint injection", "sacroiliac-joint-injection", "", ""),
        ],
        [
            ("si-diagnostic", THEN.STEP, "si-therapeutic", "the joint is the source: therapeutic injection",
             {"relief_at_least": 75}),
            ("si-diagnostic", THEN.STOP, None, "below the threshold: re-evaluate", {"relief_below": 75}),
            ("si-therapeutic", THEN.STEP, "si-therapeutic", "relief lasted and wore off: repeat",
             {"relief_at_least": 50, "relief_weeks_at_least": 12, "relief_wore_off": True}),
            ("si-therapeutic", THEN.WAIT, None, "relief still going on: nothing to do yet",
             {"relief_at_least": 50, "relief_wore_off": False}),
            ("si-therapeutic", THEN.STOP, None, "relief did not last: re-evaluate", {}),
        ],
    ),
    PathwayDefault(
        "spinal-cord-stimulation",
        "Spinal cord stimulation",
        "failed-back-syndrome",
        "M96.1, G89.28, G89.4, G90.5",
        "A psychology evaluation, then a stimulator trial; the implant after a trial with at least 50% relief.",
        [
            ("psychology", "Psychology evaluation", None, A.PSYCHOLOGY_EVALUATION, ""),
            ("trial", "Stimulator trial", "spinal-cord-stimulator-trial", "", ""),
            ("implant", "Stimulator implant", "spinal-cord-stimulator-implant", "", ""),
        ],
        [
            ("psychology", THEN.STEP, "trial", "evaluation done: the stimulator trial", {}),
            ("trial", THEN.STEP, "implant", "the trial helped enough: the implant", {"relief_at_least": 50}),
            ("trial", THEN.STOP, None, "the trial did not help enough: no implant", {"relief_below": 50}),
        ],
    ),
]  # fmt: skip


def seed_pathways() -> int:
    """Create the pathways that are missing (with their steps and rules); returns how many."""
    created = 0
    procedures = {p.slug: p for p in ProcedureType.objects.all()}
    conditions = {c.slug: c for c in Condition.objects.all()}
    for default in PATHWAYS:
        if Pathway.objects.filter(slug=default.slug).exists() or default.condition not in conditions:
            continue
        needed = [slug for _c, _l, slug, _a, _s in default.steps if slug]
        if any(slug not in procedures for slug in needed):
            continue
        pathway = Pathway.objects.create(
            slug=default.slug,
            name=default.name,
            condition=conditions[default.condition],
            suggested_for_codes=default.codes,
            summary=default.summary,
        )
        steps = {}
        for position, (code, label, slug, action, specialty) in enumerate(default.steps, start=1):
            steps[code] = PathwayStep.objects.create(
                pathway=pathway,
                position=position,
                code=code,
                label=label,
                kind=PathwayStep.Kind.PROCEDURE if slug else PathwayStep.Kind.ACTION,
                procedure_type=procedures.get(slug) if slug else None,
                action=action,
                specialty=specialty,
            )
        for priority, (after, then, next_code, explanation, conditions_) in enumerate(default.rules, start=1):
            PathwayRule.objects.create(
                pathway=pathway,
                after_step=steps[after],
                priority=priority,
                then=then,
                next_step=steps[next_code] if next_code else None,
                explanation=explanation,
                **conditions_,
            )
        created += 1
    return created


# --- Coverage rules ------------------------------------------------------------------------
# (topic, name, kind, checked types, counted types, fields, text citing the source)

K = CoverageRule.Kind
ESIS = ["epidural-steroid-injection", "interlaminar-epidural-steroid-injection",
        "transforaminal-epidural-steroid-injection"]  # fmt: skip
FACET_LCD = "Medicare LCD L38773 / L38765 (Facet Joint Interventions for Pain Management), billing article A57787"
ESI_LCD = "Medicare LCD L39240 (Epidural Steroid Injections for Pain Management)"
SI_LCD = "Medicare LCD L39402 / L39455 (Sacroiliac Joint Injections and Procedures)"
SCS_SOURCE = "Aetna CPB 0194 (Spinal Cord Stimulation) and the Medicare NCD 160.7"

COVERAGE_RULES = [
    ("facet-rfa-needs-two-mbbs", "RFA needs two diagnostic blocks", K.PREREQUISITE,
     ["radiofrequency-ablation"], ["medial-branch-block"], {"required_count": 2, "min_relief": 80},
     f"Before a facet radiofrequency ablation: two diagnostic medial branch blocks of the region, each with at "
     f"least 80% relief during the anaesthetic's window. {FACET_LCD}."),
    ("facet-diagnostic-max", "Diagnostic facet sessions", K.MAX_SESSIONS,
     ["medial-branch-block"], [], {"max_count": 4},
     f"At most 4 diagnostic facet sessions per spinal region in a rolling 12 months. {FACET_LCD}."),
    ("facet-therapeutic-max", "Therapeutic facet sessions", K.MAX_SESSIONS,
     ["facet-joint-injection"], [], {"max_count": 4},
     f"At most 4 therapeutic facet sessions per spinal region in a rolling 12 months. {FACET_LCD}."),
    ("facet-rfa-max", "RFA sessions", K.MAX_SESSIONS,
     ["radiofrequency-ablation"], [], {"max_count": 2},
     f"At most 2 radiofrequency ablation sessions per spinal region in a rolling 12 months. {FACET_LCD}."),
    ("facet-rfa-interval", "RFA at least 6 months apart", K.MIN_INTERVAL,
     ["radiofrequency-ablation"], [], {"min_days": 183},
     f"Radiofrequency ablations of one region at least 6 months (183 days) apart. {FACET_LCD}."),
    ("facet-rfa-repeat-relief", "RFA repeat needs lasting relief", K.REPEAT_RELIEF,
     ["radiofrequency-ablation"], [], {"min_relief": 50},
     f"A repeat ablation needs at least 50% relief from the last one. {FACET_LCD}."),
    ("esi-max", "Epidural sessions", K.MAX_SESSIONS, ESIS, [], {"max_count": 4},
     f"At most 4 epidural steroid injection sessions per spinal region in a rolling 12 months. {ESI_LCD}."),
    ("esi-repeat-relief", "Epidural repeat needs improvement", K.REPEAT_RELIEF, ESIS, [], {"min_relief": 50},
     f"A repeat epidural injection needs at least 50% improvement from the last one. {ESI_LCD}."),
    ("si-diagnostic-max", "Diagnostic SI joint injections", K.MAX_SESSIONS,
     ["sacroiliac-joint-diagnostic-injection"], [], {"max_count": 2},
     f"At most 2 diagnostic sacroiliac joint injections in a rolling 12 months. {SI_LCD}."),
    ("si-therapeutic-needs-diagnostic", "Therapeutic SI needs a diagnostic block", K.PREREQUISITE,
     ["sacroiliac-joint-injection"], ["sacroiliac-joint-diagnostic-injection"],
     {"required_count": 1, "min_relief": 75},
     f"Before a therapeutic sacroiliac joint injection: a diagnostic injection with at least 75% relief. {SI_LCD}."),
    ("si-therapeutic-max", "Therapeutic SI joint injections", K.MAX_SESSIONS,
     ["sacroiliac-joint-injection"], [], {"max_count": 4},
     f"At most 4 therapeutic sacroiliac joint injections in a rolling 12 months. {SI_LCD}."),
    ("si-therapeutic-repeat-relief", "Therapeutic SI repeat needs lasting relief", K.REPEAT_RELIEF,
     ["sacroiliac-joint-injection"], [], {"min_relief": 50, "min_relief_weeks": 12},
     f"A repeat therapeutic injection needs at least 50% relief lasting at least 3 months. {SI_LCD}."),
    ("scs-trial-needs-psychology", "Stimulator trial needs a psychology evaluation", K.PREREQUISITE,
     ["spinal-cord-stimulator-trial"], [], {"required_action": "psychology_evaluation", "required_count": 1,
                                            "region_grouping": RegionGrouping.ANY},
     f"Before a spinal cord stimulator trial: a psychology evaluation. {SCS_SOURCE}."),
    ("scs-implant-needs-trial", "Stimulator implant needs a successful trial", K.PREREQUISITE,
     ["spinal-cord-stimulator-implant"], ["spinal-cord-stimulator-trial"],
     {"required_count": 1, "min_relief": 50, "region_grouping": RegionGrouping.ANY},
     f"Before a spinal cord stimulator implant: a trial with at least 50% relief. {SCS_SOURCE}."),
]  # fmt: skip

# The clinic's own spacing of repeats (was each procedure type's repeat policy), counted per
# region on its own; the LCD rules above already cover RFA spacing and the ESI, facet and SI
# yearly maxima.
CLINIC_INTERVALS = [
    ("trigger-point-injections", 7),
    *[(slug, 21) for slug in ESIS],
    ("medial-branch-block", 7),
    ("joint-and-bursa-injection", 90),
    ("nerve-block", 14),
    ("sympathetic-plexus-block", 14),
]
COVERAGE_RULES += [
    (f"clinic-{slug}-interval", f"Clinic spacing: {days} days", K.MIN_INTERVAL, [slug], [],
     {"min_days": days, "region_grouping": RegionGrouping.EACH},
     f"Clinic policy (was the procedure type's repeat policy): at least {days} days apart.")
    for slug, days in CLINIC_INTERVALS
]  # fmt: skip


def seed_coverage_rules() -> int:
    """Create the default (Medicare) coverage rules that are missing; returns how many."""
    procedures = {p.slug: p for p in ProcedureType.objects.all()}
    created = 0
    for topic, name, kind, checked, counted, fields, text in COVERAGE_RULES:
        if CoverageRule.objects.filter(topic=topic, payer="").exists():
            continue
        if any(slug not in procedures for slug in checked + counted):
            continue
        rule = CoverageRule.objects.create(topic=topic, name=name, kind=kind, text=text, **fields)
        rule.procedure_types.set([procedures[slug] for slug in checked])
        rule.counted_types.set([procedures[slug] for slug in counted])
        created += 1
    return created
