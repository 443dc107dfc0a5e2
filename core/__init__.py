"""The math of the Edge of Stability Explorer: numpy and scipy only, no Streamlit.

Modules are named after the mathematical object they compute:
spectrum (eigenvalues), quadratic (GD on ½θᵀAθ), momentum (heavy ball / Nesterov),
network (an MLP on a flat parameter vector), sharpness (top Hessian eigenvalues),
training (full-batch GD runs), datasets, toy2d (L = ½(xy − 1)²).
"""
