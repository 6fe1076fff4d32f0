import os
print('hello from %s' % os.name)
