"""fewtag live on GitHub: the repository config (``.github/fewtag.yml``), ``fewtag triage`` of one
issue with one explanatory comment, feedback from what humans do with the labels, and staged
retraining (``fewtag promote``).

Modules: :mod:`~fewtag.deploy.config` (the schema), :mod:`~fewtag.deploy.triage` (one issue),
:mod:`~fewtag.deploy.comment` (the comment), :mod:`~fewtag.deploy.explain` (words and neighbours),
:mod:`~fewtag.deploy.feedback` and :mod:`~fewtag.deploy.promote`.
"""
