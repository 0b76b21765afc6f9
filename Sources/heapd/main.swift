print("heapd")
