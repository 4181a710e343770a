"""Capture: frames from video files and webcams, and MediaPipe Holistic landmarks from them.

Two modules, imported on demand (nothing is re-exported here, so ``import signstudio.capture``
stays cheap):

- :mod:`signstudio.capture.video` — OpenCV only: :func:`~signstudio.capture.video.probe_video`,
  :func:`~signstudio.capture.video.iter_frames` (RGB ``(H, W, 3)`` uint8 frames) and
  :func:`~signstudio.capture.video.open_camera`. Importing it does not load MediaPipe.
- :mod:`signstudio.capture.holistic` — MediaPipe Holistic (``model_complexity=1``, the models
  shipped in the mediapipe 0.10.21 wheel, so it works offline):
  :class:`~signstudio.capture.holistic.HolisticEstimator`,
  :func:`~signstudio.capture.holistic.extract_pose` (video file → pose-format ``Pose``) and
  :func:`~signstudio.capture.holistic.record_camera` (webcam → ``Pose``). Importing it loads
  MediaPipe (about a second).

No module here imports Qt: long jobs report progress, partial frames and cancellation through a
task handle (:mod:`signstudio.tasks`).
"""
