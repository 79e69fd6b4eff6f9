"""The training core: tasks and data sets, layers, models, optimizers, the batched-ensemble
training loop and the metrics it records. Imports nothing else from grokcore."""
