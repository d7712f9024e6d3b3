# read_cohort.R: read a Continuum research export into R, each column typed and
# labelled as the export's codebook describes it. Base R only (R 4.0 or later): no
# package to install.
#
#   unzip("demo-2026.zip", exdir = "demo-2026")
#   source("demo-2026/read_cohort.R")
#   cohort <- read_cohort("demo-2026")
#   str(cohort$dyad)
#   table(cohort$dyad$state, cohort$dyad$wave)
#   attr(cohort$respondent[["REL-LG-1"]], "label")    # the item's wording
#   attr(cohort$respondent[["REL-LG-1"]], "labels")   # its labelled answer points
#
# read_cohort() returns a list of four data frames, long, respondent, dyad and
# pairwise, with the CSV files' column names unchanged (so cohort$respondent[["REL-LG-1"]]
# rather than $REL.LG.1). Each column gets the type its codebook row names:
#   integer   integer               float     double
#   boolean   logical               datetime  POSIXct in UTC
#   string    a factor when the codebook lists its values (role, state, congruence,
#             transition, battery, language), with the levels in the order listed;
#             else character
# Empty cells are NA. Every column carries attr(x, "label"): an item's wording in the
# instrument's first language (both sides' when mentor and protege read different
# words; the codebook has the other languages), else the codebook's label.
# Answers also carry attr(x, "labels"), their labelled scale points as a named integer
# vector, c("Strongly disagree" = 1L, ...). haven, labelled and RStudio's data viewer
# show these attributes; base R keeps them. The .sav and .dta files of the export carry
# the same labels for SPSS and Stata.

CODEBOOK_COLUMNS <- c("file", "column", "label", "type", "values",
                      "item_text_mentor", "item_text_protege")
FILES <- c("long", "respondent", "dyad", "pairwise")
CLASSES <- c(integer = "integer", float = "numeric", boolean = "character",
             datetime = "character", string = "character")
# The codebook's values of a text column with listed values, and of one labelled
# answer point ("1 = Strongly disagree").
CATEGORIES <- "^[a-z_]+(; [a-z_]+)+$"
POINT <- "^(-?[0-9]+) = (.+)$"
DATETIME <- "%Y-%m-%dT%H:%M:%SZ"

read_cohort <- function(folder = ".", prefix = NULL) {
  if (is.null(prefix)) {
    found <- list.files(folder, pattern = "-codebook[.]csv$")
    if (length(found) != 1) {
      stop("expected one *-codebook.csv in ", folder, ", found ", length(found),
           "; name the files' prefix, e.g. read_cohort(folder, prefix = \"demo-2026\")")
    }
    prefix <- sub("-codebook[.]csv$", "", found)
  }
  path <- function(name) file.path(folder, paste0(prefix, "-", name, ".csv"))
  codebook <- read_csv_file(path("codebook"), "character", na = character(0))
  missing <- setdiff(CODEBOOK_COLUMNS, names(codebook))
  if (length(missing) > 0) {
    stop("the codebook has no column ", paste(missing, collapse = ", "))
  }
  frames <- lapply(FILES, function(name) {
    read_cohort_file(path(name), codebook[codebook$file == name, , drop = FALSE])
  })
  stats::setNames(frames, FILES)
}

read_cohort_file <- function(file, codebook) {
  header <- names(read_csv_file(file, "character", nrows = 1))
  entries <- codebook[match(header, codebook$column), , drop = FALSE]
  unknown <- header[is.na(entries$column)]
  if (length(unknown) > 0) {
    stop(basename(file), ": no codebook row for ", paste(unknown, collapse = ", "))
  }
  classes <- unname(CLASSES[entries$type])
  classes[is.na(classes)] <- "character"
  data <- read_csv_file(file, classes)
  for (i in seq_along(header)) {
    data[[i]] <- labelled_column(data[[i]], entries[i, , drop = FALSE])
  }
  data
}

read_csv_file <- function(file, classes, na = "", nrows = -1) {
  utils::read.csv(file, colClasses = classes, na.strings = na, nrows = nrows,
                  check.names = FALSE, stringsAsFactors = FALSE, fileEncoding = "UTF-8")
}

labelled_column <- function(x, entry) {
  levels <- category_levels(entry$values)
  if (entry$type == "boolean") {
    x <- x == "true"
  } else if (entry$type == "datetime") {
    x <- as.POSIXct(x, format = DATETIME, tz = "UTC")
  } else if (entry$type == "string" && length(levels) > 0) {
    x <- factor(x, levels = levels)
  }
  points <- scale_points(entry$values)
  if (entry$type == "integer" && length(points) > 0) {
    attr(x, "labels") <- points
  }
  attr(x, "label") <- variable_label(entry)
  x
}

category_levels <- function(values) {
  if (grepl(CATEGORIES, values)) strsplit(values, "; ", fixed = TRUE)[[1]] else character(0)
}

scale_points <- function(values) {
  parts <- strsplit(values, "; ", fixed = TRUE)[[1]]
  parts <- parts[grepl(POINT, parts)]
  stats::setNames(as.integer(sub(POINT, "\\1", parts)), sub(POINT, "\\2", parts))
}

variable_label <- function(entry) {
  mentor <- entry$item_text_mentor
  protege <- entry$item_text_protege
  if (mentor == "" && protege == "") {
    return(entry$label)
  }
  if (mentor == protege) {
    return(mentor)
  }
  paste0("prot\u00e9g\u00e9: ", protege, " | mentor: ", mentor)
}
