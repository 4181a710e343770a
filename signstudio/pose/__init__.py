"""Poses: `.pose` I/O through pose-format, MediaPipe Holistic layout, and model features."""
