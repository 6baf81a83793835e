"""Dify's Service API for workflow apps (/v1) and Agno's workflow API, on signoff's runs.

`shapes` turns signoff's records into the bodies those clients parse; `service` holds the use
cases the /v1 routes call; `uploads` stores uploaded files; `sessions` keeps the state runs of one
session share; `agno` answers in Agno's shapes.
"""
