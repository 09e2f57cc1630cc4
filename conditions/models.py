"""Conditions the clinic treats. Treatment pathways will live here too."""

from django.db import models


class BodyRegion(models.TextChoices):
    HEAD = "head", "Head"
    FACE = "face", "Face"
    NECK = "neck", "Neck"
    SHOULDER = "shoulder", "Shoulder"
    HAND = "hand", "Arm and hand"
    CHEST_UPPER_BACK = "chest_upper_back", "Chest / upper and mid back"
    LOWER_BACK = "lower_back", "Lower back"
    ABDOMEN = "abdomen", "Abdomen"
    PELVIS = "pelvis", "Pelvis"
    LOWER_EXTREMITY = "lower_extremity", "Lower extremity"
    JOINTS = "joints", "Joints"
    WIDESPREAD = "widespread", "Pain all over"


class Condition(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    body_region = models.CharField(max_length=20, choices=BodyRegion.choices)
    summary = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
