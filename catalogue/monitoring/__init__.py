"""`/monitoring/`: the roadmap's own numbers by year, municipality and school (issue #13 §1).

``indicators`` defines what is counted (a registry of grouped queries), ``privacy`` what the public may see of it
(small counts and the cells that would give them away hidden), ``charts`` the inline SVG, ``views`` the pages and
downloads; a municipal coordinator's municipality is kept in ``models``.
"""
