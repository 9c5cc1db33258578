# transport/libta/tasubmit.mk - resubmission helpers of libta (errormail, hold)
transport_libta_libta_a_SOURCES += transport/libta/tasubmit.h transport/libta/tasubmit.c
