"""Training on the core: the fit loop and its engines, the run that can go on (Run), traced steps,
and finite differences against backprop."""
