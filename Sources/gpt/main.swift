import SwiftAttention
print("gpt")
