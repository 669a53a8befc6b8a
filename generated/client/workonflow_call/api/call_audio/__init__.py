# Generated from openapi.yaml version 2.2.0. Do not edit.
"""Contains endpoint functions for accessing the API"""
