"""Training: settings (the settings and their checks), batches, components (encoder, loss, optimiser),
schedule (the learning rate), checkpoints and records (what a run keeps), and loop (`train`).

Import from the modules themselves: `from siamdup.training.loop import train`, and
`from siamdup.training.settings import TrainConfig` for the settings alone (without the loop).
"""
