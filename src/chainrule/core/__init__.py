"""The mathematics, the ground floor: settings and their validation, formula trees, the activations,
losses and optimisers (one class each), layers and the network's forward and backward passes, the
builder of networks, initialisers, neuron names, the arrays users hand in, accuracy and the files a user names (read bounded).  It imports
nothing of chainrule above it."""
