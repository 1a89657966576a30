"""Hugging Face Space: the skeleton-models demo (`skeleton_models.demo`) for one checkpoint.

The checkpoint is read from the environment variable ``SKELETON_MODEL``: a Hub model id (set it in the Space's
Settings > Variables) or, run on a machine, a local checkpoint folder. Default: the zoo's quickstart HGLNet,
``skeleton-models/hglnet-synthetic-xsub-joint``. It must be a classifier of this library saved with its processor
(``save_pretrained`` of both, or ``skeleton-models quickstart``); a private repository needs the ``HF_TOKEN`` secret.

Run it locally::

    pip install "skeleton-models[demo]"
    SKELETON_MODEL=quickstart-output python app.py     # then open http://127.0.0.1:7860
"""

import os

from skeleton_models.demo import build_demo

MODEL = os.environ.get("SKELETON_MODEL", "skeleton-models/hglnet-synthetic-xsub-joint")

demo = build_demo(MODEL)

if __name__ == "__main__":
    demo.launch()
