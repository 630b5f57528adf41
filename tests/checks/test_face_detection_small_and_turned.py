"""Faces are found where they are small, tilted or weakly detected: "no
face" on a real face fails the person."""

import numpy as np

from tests.checks import testdata as td
from workflows.checks import faces


def test_small_face_in_a_small_frame_is_found():
    frame = td.live_frame(td.astronaut(), frame=(320, 240), face_share=0.3, seed=3)
    found = faces.detect_faces(frame)
    assert len(found) == 1
    assert found[0].width < faces.UPSAMPLE_BELOW


def test_tilted_head_is_found():
    frame = td.rotate(td.live_frame(td.astronaut(), frame=(480, 360), face_share=0.45, seed=4), 28,
                      fill=(186, 180, 170))
    found = faces.detect_faces(frame)
    assert len(found) == 1
    # the box is around the face: the landmarks' eyes are inside it
    left, top, right, bottom = found[0].box
    eyes = found[0].landmarks[36:48].mean(axis=0)
    assert left < eyes[0] < right and top < eyes[1] < bottom


def test_small_portrait_of_a_1280x720_document_capture_is_found_and_matches():
    """The page fills a third of the frame: the portrait's face is about 40 px
    wide at full size, too small once the capture is shrunk."""
    holder = td.random_holder(1)
    page = td.draw_document(holder, "TD3", portrait=td.astronaut(), seed=1)
    document = td.on_table(page, seed=1, fill_share=0.35)
    portrait = faces.largest_face(document)
    live = faces.largest_face(td.live_frame(td.astronaut(), seed=12))
    assert portrait.count == 1 and live.count == 1
    assert faces.face_distance(portrait.descriptor, live.descriptor) < 0.6


def test_a_weak_detection_that_is_the_only_one_is_kept():
    frame = td.live_frame(td.grace_hopper(), frame=(320, 240), face_share=0.32, seed=5)
    frame = td.sensor_noise(td.darken(frame, 0.3), 5, sigma=4)
    found = faces.detect_faces(frame)
    assert len(found) == 1


def test_a_descriptor_is_computed_once_per_image():
    frame = td.live_frame(td.astronaut(), seed=13)
    faces._cache.clear()
    first = faces.largest_face(frame).descriptor
    cached = [key for key in faces._cache if key[0] == "descriptor"]
    again = faces.largest_face(frame).descriptor
    assert len(cached) == 1 and np.array_equal(first, again)


def test_a_later_detection_pass_never_drops_a_face_an_earlier_one_found():
    """The best detection of each face stands across passes; a face only
    the first pass found is kept."""
    first = [((10, 10, 60, 60), 0.9), ((200, 10, 240, 50), 0.4)]
    upsampled = [((12, 11, 61, 62), 1.2)]
    merged = faces._best_of(first, upsampled)
    assert merged == [((12, 11, 61, 62), 1.2), ((200, 10, 240, 50), 0.4)]


def test_small_images_are_searched_upsampled_from_the_first_pass():
    assert faces._upsample_for(np.zeros((120, 160, 3), np.uint8)) == 2
    assert faces._upsample_for(np.zeros((240, 320, 3), np.uint8)) == 1
    assert faces._upsample_for(np.zeros((480, 640, 3), np.uint8)) == 0
