"""Keras model builders: the dense and convolutional networks of the lecture, uncompiled.

The builders return ordinary ``keras.Model`` objects: the notebooks call ``model.compile`` /
``model.fit`` themselves when that is the lesson, and ``training.compile_classifier`` /
``training.timed_fit`` when it is not. Trained, cached models are in ``zoo``.

Inputs are NHWC batches (N, H, W, C) with pixel values in [0, 1] (or (N, n_features) for a
dense network); classifiers end in a softmax, so they output (N, n_classes) probabilities.

Layer names are fixed so that notebooks can pick layers by name (``model.get_layer("conv1")``,
``inspection.activations(model, x, ["relu1"])``):

- ``build_mlp``: ``hidden``, ``hidden2``, ... and ``output`` (``flatten`` first for image inputs).
- ``build_cnn``: ``augmentation``; per conv block i = 1, 2, ...: ``conv{i}``, ``bn{i}``,
  ``relu{i}``, ``pool{i}``; residual blocks ``res{j}_...``; ``flatten``; per dense layer k:
  ``dropout{k}``, ``dense{k}``, ``dense_bn{k}``, ``dense_relu{k}``; ``output_dropout``, ``output``.
- ``build_deep_cnn``: ``stem_conv``, ``stem_relu``, ``stem_pool``; per block j: ``block{j}_conv1``,
  ``block{j}_relu1``, ``block{j}_conv2``, ``block{j}_add`` (residual only), ``block{j}_relu2``;
  ``mid_pool`` (depth >= 6), ``global_pool``, ``output``.

Layers in the lists above that belong to an option (augmentation, batch norm, dropout, residual
blocks) exist only when that option is on. Convolutions and dense layers are linear, followed by
a separate ``ReLU`` layer (and, with batch norm, a ``BatchNormalization`` layer in between), so
that both the pre-activation z and the activation s(z) can be read out.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

# Keras' default 0.99 needs ~500 steps before the moving statistics used at inference forget their
# initial values; the notebooks train for a few hundred steps, so inference would use wrong ones.
BN_MOMENTUM = 0.9



# ----------------------------------------------------------------------------------- dense networks


def build_mlp(n_inputs: int | Sequence[int], hidden: int | Sequence[int], n_outputs: int,
              activation: str = "sigmoid", output_activation: str = "softmax",
              name: str | None = None) -> keras.Sequential:
    """The lecture's dense network: ``Input -> Dense(hidden) ... -> Dense(n_outputs)``, uncompiled.

    Parameters
    ----------
    n_inputs : int or sequence of int
        Number of input features, or an input shape such as (28, 28, 1) (then a ``flatten`` layer
        comes first).
    hidden : int or sequence of int
        Units of each hidden layer, e.g. 100 or (100,) for the slide's network, (100, 50) for two
        hidden layers, () for none (multinomial logistic regression).
    n_outputs : int
        Number of classes (output units).
    activation : str
        Activation of the hidden layers (the slide's sigmoid by default).
    output_activation : str
        Activation of the output layer; "softmax" gives class probabilities.
    name : str, optional
        Model name; default "mlp".

    Returns
    -------
    model : keras.Sequential
        (N, n_inputs) or (N, *n_inputs) inputs -> (N, n_outputs) outputs. Layer names: ``flatten``
        (image inputs only), ``hidden``, ``hidden2``, ..., ``output``.

    Raises
    ------
    ValueError
        If a size is not positive.

    Examples
    --------
    >>> model = build_mlp(784, 100, 10)  # doctest: +SKIP
    >>> [layer.name for layer in model.layers]  # doctest: +SKIP
    ['hidden', 'output']
    >>> model.count_params()  # 784 * 100 + 100 weights and biases, then 100 * 10 + 10  # doctest: +SKIP
    79510
    """
    input_shape = (n_inputs,) if isinstance(n_inputs, int) else tuple(n_inputs)
    hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
    if any(int(d) < 1 for d in input_shape) or n_outputs < 1 or any(h < 1 for h in hidden):
        raise ValueError(f"sizes must be positive: n_inputs={n_inputs}, hidden={hidden}, "
                         f"n_outputs={n_outputs}")
    layers = [keras.Input(input_shape)]
    if len(input_shape) > 1:
        layers.append(keras.layers.Flatten(name="flatten"))
    for i, units in enumerate(hidden, start=1):
        layers.append(keras.layers.Dense(units, activation=activation,
                                         name="hidden" if i == 1 else f"hidden{i}"))
    layers.append(keras.layers.Dense(n_outputs, activation=output_activation, name="output"))
    return keras.Sequential(layers, name=name or "mlp")


# --------------------------------------------------------------------------- convolutional networks


def augmentation(shift: float = 0.1, rotation: float = 0.05, zoom: float = 0.0,
                 flip: bool | str = False, contrast: float = 0.0,
                 seed: int = 0) -> keras.Sequential:
    """Random image transformations that are applied in training only (identity at inference).

    Parameters
    ----------
    shift : float
        Largest translation as a fraction of the height/width.
    rotation : float
        Largest rotation as a fraction of a full turn (0.05 = 18 degrees).
    zoom : float
        Largest zoom in/out as a fraction.
    flip : bool or str
        True (or "horizontal"), "vertical" or "horizontal_and_vertical"; False for none (flipping
        changes the meaning of digits, so it is off by default).
    contrast : float
        Largest contrast change as a fraction; images are taken to be in [0, 1], and stay so.
    seed : int
        Seed of the random transformations (each layer gets its own seed derived from it).

    Returns
    -------
    augment : keras.Sequential
        Named "augmentation", with one layer per non-zero option (``shift``, ``rotation``,
        ``zoom``, ``flip``, ``contrast``); maps (N, H, W, C) images to (N, H, W, C) images. Pass it
        to ``build_cnn(augmentation=...)`` or call it on a batch with ``training=True``.

    Raises
    ------
    ValueError
        If every option is off (pass ``augmentation=None`` to the model builder instead).

    Notes
    -----
    Pixels that move in from outside the image are black (0), the background of MNIST.

    Examples
    --------
    >>> augment = augmentation(shift=0.1, rotation=0.05)  # doctest: +SKIP
    >>> [layer.name for layer in augment.layers]  # doctest: +SKIP
    ['shift', 'rotation']
    >>> augment(x_train[:8], training=True).shape  # doctest: +SKIP
    TensorShape([8, 28, 28, 1])
    >>> model = build_cnn(augmentation=augment)  # doctest: +SKIP
    """
    fill = {"fill_mode": "constant", "fill_value": 0.0}
    layers = []
    if shift:
        layers.append(keras.layers.RandomTranslation(shift, shift, seed=seed, name="shift", **fill))
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation, seed=seed + 1, name="rotation", **fill))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, seed=seed + 2, name="zoom", **fill))
    if flip:
        mode = "horizontal" if flip is True else flip
        layers.append(keras.layers.RandomFlip(mode, seed=seed + 3, name="flip"))
    if contrast:
        layers.append(keras.layers.RandomContrast(contrast, value_range=(0, 1), seed=seed + 4,
                                                  name="contrast"))
    if not layers:
        raise ValueError("every augmentation is switched off; pass augmentation=None to the model "
                         "builder instead")
    return keras.Sequential(layers, name="augmentation")


def _conv_bn_relu(x, filters: int, kernel_size: int, batch_norm: bool, names: tuple[str, str, str],
                  padding: str = "same", kernel_initializer: str = "glorot_uniform"):
    """Conv2D -> (BatchNormalization) -> ReLU; no conv bias under batch norm (its beta is one)."""
    conv, bn, relu = names
    x = keras.layers.Conv2D(filters, kernel_size, padding=padding, use_bias=not batch_norm,
                            kernel_initializer=kernel_initializer, name=conv)(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=bn)(x)
    return keras.layers.ReLU(name=relu)(x)


def _residual_block(x, prefix: str, kernel_size: int, batch_norm: bool, residual: bool,
                    kernel_initializer: str = "glorot_uniform"):
    """Two same-padded convolutions with, if ``residual``, an identity skip: relu(x + F(x)).

    x: (N, H, W, C) tensor; the output has the same shape. Without ``residual`` it is the plain
    stack relu(F(x)) with the same layers, so the two variants differ only by the ``Add`` layer.
    """
    filters = x.shape[-1]
    y = _conv_bn_relu(x, filters, kernel_size, batch_norm,
                      (f"{prefix}_conv1", f"{prefix}_bn1", f"{prefix}_relu1"),
                      kernel_initializer=kernel_initializer)
    y = keras.layers.Conv2D(filters, kernel_size, padding="same", use_bias=not batch_norm,
                            kernel_initializer=kernel_initializer, name=f"{prefix}_conv2")(y)
    if batch_norm:
        y = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{prefix}_bn2")(y)
    if residual:
        y = keras.layers.Add(name=f"{prefix}_add")([x, y])
    return keras.layers.ReLU(name=f"{prefix}_relu2")(y)


def build_cnn(input_shape: Sequence[int] = (28, 28, 1), n_classes: int = 10,
              filters: Sequence[int] = (32, 64), kernel_size: int = 3,
              dense: Sequence[int] = (128,),
              batch_norm: bool = False, dropout: float = 0.0, residual_blocks: int = 0,
              padding: str = "same", augmentation: keras.Layer | None = None,
              name: str | None = None) -> keras.Model:
    """A small CNN: conv blocks, then dense layers, then a softmax output; uncompiled.

    Parameters
    ----------
    input_shape : (int, int, int)
        (H, W, C) of one image.
    n_classes : int
        Number of output classes.
    filters : sequence of int
        Number of filters of each conv block; a block is conv(kernel_size x kernel_size) ->
        [batch norm] -> ReLU -> 2x2 max-pool.
    kernel_size : int
        Side of the square convolution kernels.
    dense : sequence of int
        Units of the hidden dense layers after flattening, each dense -> [batch norm] -> ReLU.
    batch_norm : bool
        Put a BatchNormalization layer between every conv/dense layer and its ReLU
        (u = relu(gamma * (z - mu) / sigma + beta)); the conv/dense layer then has no bias.
    dropout : float
        Rate in [0, 1) of a Dropout layer before each dense layer (hidden ones and output); 0 for
        none.
    residual_blocks : int
        Number of residual blocks (two convolutions with an identity skip connection) added after
        the last conv block, at its width.
    padding : {"same", "valid"}
        "same" keeps the map size through each conv, "valid" shrinks it by kernel_size - 1.
    augmentation : keras.Layer, optional
        A layer applied to the input first, e.g. ``augmentation()``; it is active in training only.
    name : str, optional
        Model name; default "cnn".

    Returns
    -------
    model : keras.Model
        Functional model: (N, H, W, C) images -> (N, n_classes) probabilities. Layer names as in
        the module docstring (``conv1``, ``relu1``, ``pool1``, ..., ``flatten``, ``dense1``, ...,
        ``output``).

    Raises
    ------
    ValueError
        If ``input_shape`` is not (H, W, C), ``dropout`` is not in [0, 1), or the conv blocks
        would shrink the image to nothing.

    Examples
    --------
    >>> model = build_cnn()  # doctest: +SKIP
    >>> model.get_layer("pool2").output.shape  # 28 -> 14 -> 7  # doctest: +SKIP
    (None, 7, 7, 64)
    >>> model.output_shape  # doctest: +SKIP
    (None, 10)
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be a rate in [0, 1), got {dropout}")
    size = min(input_shape[:2])
    for _ in filters:
        size = (size - (kernel_size - 1 if padding == "valid" else 0)) // 2
    if size < 1:
        raise ValueError(f"{len(filters)} conv blocks with {padding!r} {kernel_size}x{kernel_size} "
                         f"convolutions and 2x2 pooling shrink a {input_shape[:2]} image to "
                         "nothing; use fewer blocks, a smaller kernel or padding='same'")
    inputs = keras.Input(input_shape)
    x = inputs if augmentation is None else augmentation(inputs)
    for i, n_filters in enumerate(filters, start=1):
        x = _conv_bn_relu(x, n_filters, kernel_size, batch_norm, (f"conv{i}", f"bn{i}", f"relu{i}"),
                          padding=padding)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    for j in range(1, residual_blocks + 1):
        x = _residual_block(x, f"res{j}", kernel_size, batch_norm, residual=True)
    x = keras.layers.Flatten(name="flatten")(x)
    for k, units in enumerate(dense, start=1):
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{k}")(x)
        x = keras.layers.Dense(units, use_bias=not batch_norm, name=f"dense{k}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"dense_bn{k}")(x)
        x = keras.layers.ReLU(name=f"dense_relu{k}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="output_dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=name or "cnn")


def build_deep_cnn(depth: int = 20, width: int = 16, residual: bool = False,
                   batch_norm: bool = False, input_shape: Sequence[int] = (28, 28, 1),
                   n_classes: int = 10, kernel_size: int = 3,
                   kernel_initializer: str = "glorot_uniform",
                   name: str | None = None) -> keras.Model:
    """A deep, narrow CNN with or without residual connections for the depth experiment; uncompiled.

    Parameters
    ----------
    depth : int
        Number of layers with weights, counted as in ResNet-20: a stem conv, (depth - 2) / 2
        blocks of two convs each, and the output dense layer; an even number >= 4.
    width : int
        Filters of every conv layer.
    residual : bool
        Add an identity skip around each block (relu(x + F(x)) instead of relu(F(x))); the plain
        and residual models have the same layers and the same number of parameters.
    batch_norm : bool
        Put a BatchNormalization layer between every conv and its ReLU (for a block's second
        conv: before the skip is added); the convs then have no bias.
    input_shape : (int, int, int)
        (H, W, C) of one image.
    n_classes : int
        Number of output classes.
    kernel_size : int
        Side of the square convolution kernels (all "same" padded).
    kernel_initializer : str
        Initializer of the conv kernels. Keras' default glorot_uniform halves the signal variance
        at every conv -> ReLU, so a deep plain stack starts with vanishing activations and
        gradients, which the identity paths of the residual variant avoid; "he_normal" keeps the
        variance instead.
    name : str, optional
        Model name; default "plain_cnn_{depth}" or "residual_cnn_{depth}".

    Returns
    -------
    model : keras.Model
        Functional model: (N, H, W, C) images -> (N, n_classes) probabilities.

    Raises
    ------
    ValueError
        If ``depth`` is not an even number >= 4.

    Notes
    -----
    Layout: stem conv -> 2x2 pool (14x14 on MNIST) -> first half of the blocks -> 2x2 pool (7x7) ->
    second half -> global average pool -> dense softmax. With an odd number of blocks the first
    half is the smaller one; with depth 4 (a single block) there is no middle pool.

    Examples
    --------
    >>> plain = build_deep_cnn(depth=20, residual=False)  # doctest: +SKIP
    >>> residual = build_deep_cnn(depth=20, residual=True)  # doctest: +SKIP
    >>> plain.count_params() == residual.count_params()  # doctest: +SKIP
    True
    >>> residual.get_layer("block9_add").output.shape  # doctest: +SKIP
    (None, 7, 7, 16)
    """
    if depth < 4 or depth % 2:
        raise ValueError(f"depth must be an even number >= 4 (stem conv + pairs of convs + output "
                         f"layer), got {depth}")
    n_blocks = (depth - 2) // 2
    inputs = keras.Input(tuple(input_shape))
    x = _conv_bn_relu(inputs, width, kernel_size, batch_norm, ("stem_conv", "stem_bn", "stem_relu"),
                      kernel_initializer=kernel_initializer)
    x = keras.layers.MaxPooling2D(2, name="stem_pool")(x)
    for j in range(1, n_blocks + 1):
        x = _residual_block(x, f"block{j}", kernel_size, batch_norm, residual, kernel_initializer)
        if j == n_blocks // 2:
            x = keras.layers.MaxPooling2D(2, name="mid_pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="output")(x)
    kind = "residual" if residual else "plain"
    return keras.Model(inputs, outputs, name=name or f"{kind}_cnn_{depth}")
