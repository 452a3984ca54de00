#!/usr/bin/env Rscript
# Exports R's built-in EuStockMarkets (daily closes of DAX, SMI, CAC, FTSE, 1991-1998) to
# eustockmarkets.csv next to this script. Needs only Debian's r-base-core (R's datasets package).
# Usage: Rscript examples/data/export_data.R   (deterministic: same R data -> same bytes)

file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
here <- if (length(file_arg) == 1) dirname(sub("^--file=", "", file_arg)) else "."
out_path <- file.path(here, "eustockmarkets.csv")

x <- datasets::EuStockMarkets            # mts, 1860 x 4, start 1991 + 129/260, frequency 260
stopifnot(identical(dim(x), c(1860L, 4L)), frequency(x) == 260, !anyNA(x))

t_frac <- as.numeric(time(x))            # fractional year in R's business-time axis
# Year of each observation. Half a step of slack guards against floating-point rounding at
# year boundaries (time 1998 is stored as 1998.0000000000002); equals floor(time) here.
year <- as.integer(floor(t_frac + 0.5 / frequency(x)))
day_of_year <- as.integer(cycle(x))     # 1..260 position within the year (business days)

df <- data.frame(time = t_frac, year = year, day_of_year = day_of_year,
                 DAX = x[, "DAX"], SMI = x[, "SMI"], CAC = x[, "CAC"], FTSE = x[, "FTSE"])
write.csv(df, out_path, row.names = FALSE)
cat(sprintf("wrote %s: %d rows, years %d-%d\n", out_path, nrow(df), min(year), max(year)))
