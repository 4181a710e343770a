"""Data-parallel training with Hugging Face Accelerate, without changing the trainer's code path.

``signstudio train CONFIG`` runs in one process. ``accelerate launch --multi_gpu --num_processes N
-m signstudio train CONFIG`` runs the *same* loop in N processes — on N GPUs, or on a machine
without GPUs as N CPU processes (gloo; Accelerate's own ``--cpu`` flag starts only one process
unless MPI is set up), and across nodes with ``--num_machines``: every process draws the same shuffled batch order from the same seed and
takes every N-th batch (:meth:`Distributed.shard`), the model is wrapped for gradient averaging
(DistributedDataParallel via ``Accelerator.prepare``), and only the main process evaluates and
writes checkpoints, metrics and the training state. The effective batch is N x ``batch_size``.

In a single process (no launcher) nothing is wrapped and Accelerate is not imported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

import torch

T = TypeVar("T")


def launched_processes() -> int:
    """Number of processes started by a launcher (``WORLD_SIZE``; 1 when run directly)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


class Distributed:
    """The trainer's view of the processes it runs in (one, or several under ``accelerate launch``).

    Attributes:
        num_processes: processes training together. index: this process's rank (0 = main).
        accelerator: the ``accelerate.Accelerator``, or None in a single process.
    """

    def __init__(self) -> None:
        self.accelerator = None
        self.num_processes = 1
        self.index = 0
        if launched_processes() > 1:
            from accelerate import Accelerator

            # No GPU: Accelerate would fall back to one process; ask for its gloo CPU group instead.
            self.accelerator = Accelerator(cpu=not torch.cuda.is_available())
            self.num_processes = self.accelerator.num_processes
            self.index = self.accelerator.process_index

    @property
    def is_main(self) -> bool:
        """True in the process that evaluates and writes files."""
        return self.index == 0

    @property
    def device(self) -> torch.device:
        """Where this process's model and batches live (CPU unless a launcher assigned a GPU)."""
        return self.accelerator.device if self.accelerator is not None else torch.device("cpu")

    def prepare(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer):
        """Wrap the model (for gradient averaging) and the optimiser; no-op in one process."""
        if self.accelerator is None:
            return model, optimizer
        return self.accelerator.prepare(model, optimizer)

    def unwrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The plain model inside a wrapper (for evaluation and saving)."""
        return self.accelerator.unwrap_model(model) if self.accelerator is not None else model

    def steps(self, batches_per_epoch: int) -> int:
        """Optimiser steps per epoch in this process: the batches divided evenly (the rest dropped)."""
        if self.num_processes == 1:
            return batches_per_epoch
        return max(1, batches_per_epoch // self.num_processes)

    def shard(self, batches: Sequence[T]) -> list[T]:
        """This process's share of an epoch's batches: every N-th, equally many in every process."""
        if self.num_processes == 1:
            return list(batches)
        mine = list(batches[self.index :: self.num_processes])
        return mine[: self.steps(len(batches))]

    def backward(self, loss: torch.Tensor) -> None:
        """Back-propagate (and, with several processes, average gradients)."""
        if self.accelerator is None:
            loss.backward()
        else:
            self.accelerator.backward(loss)

    def wait(self) -> None:
        """Barrier: every process waits here until all have arrived (no-op in one process)."""
        if self.accelerator is not None:
            self.accelerator.wait_for_everyone()
