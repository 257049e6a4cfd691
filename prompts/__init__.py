"""videoqa.prompts"""
