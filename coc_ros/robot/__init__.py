"""The robot API generated code sees (detect_objects, pick_place, say) and the checks every call passes."""
