"""Plots (SPEC section 12): DVC's plot definitions, filled into Vega-Lite templates with the
data of any revisions and experiments, rendered offline to HTML, SVG and PNG.

`data` reads data files into records; `templates` holds the built-in templates and finds
custom ones; `collect` turns definitions and revisions into filled specs; `output` writes
HTML (one self-contained file), SVG and PNG through vl-convert (the `plots` extra).
"""
