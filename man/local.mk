# man/local.mk - each area adds its pages in its own local.mk:
#   dist_man_MANS += man/smtp.8
