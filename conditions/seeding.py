"""The conditions the clinic treats (shared/DOMAIN.md, seed 001), created if missing."""

from __future__ import annotations

from django.utils.text import slugify

from conditions.models import BodyRegion, Condition

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
]  # fmt: skip


def seed_conditions() -> int:
    """Create the conditions that are missing; returns how many were created."""
    created = 0
    for name, region, summary in CONDITIONS:
        created += Condition.objects.get_or_create(
            slug=slugify(name), defaults={"name": name, "body_region": region, "summary": summary}
        )[1]
    return created
