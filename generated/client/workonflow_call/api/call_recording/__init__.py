# Generated from openapi.yaml version 2.3.0. Do not edit.
"""Contains endpoint functions for accessing the API"""
